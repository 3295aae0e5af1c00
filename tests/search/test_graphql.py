"""The search fields over HTTP, as a client sends them, with exact answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.types import Message, Receive, Scope, Send

from hub.app import create_app
from hub.config import Settings
from hub.db import HubSession
from hub.observability import tracing
from search.elastic import ElasticBackend
from search.indexer import reindex
from search.outbox import ELASTICSEARCH, EMBEDDED
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.graphql import data, error, post
from tests.search.client import hub_client
from tests.search.conftest import dead_url
from tests.search.corpus import Corpus, make_corpus

INVESTOR = """
{ searchEnterprises(query: "华为", filter: { regionCode: "440000", creditGrades: [A, B],
    blacklisted: false, hasValidLicence: true }, first: 20) {
    totalCount totalCountExact
    facets { regions { code name count } creditGrades { grade count }
             industries { code name count } blacklisted { value count } }
    edges { cursor score highlights { field fragments }
            node { uscc name creditGrade blacklisted licences(first: 3) { nodes { status } } } } } }
"""

PLAIN = """
query($q: String!) { searchEnterprises(query: $q) {
    totalCount edges { score highlights { field fragments } node { name } } } }
"""
# PLAIN's page for 华为 in the corpus, best first.
HUAWEI = [
    "华为技术有限公司",
    "华为海洋网络有限公司",
    "深圳市华为终端有限公司",
    "北京数码贸易有限公司",
]


@pytest.fixture
async def elastic_client(
    sessionmaker: async_sessionmaker[HubSession], elastic: ElasticBackend, prefix: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(search_url=elastic.url, search_index_prefix=prefix)
    async for client in hub_client(sessionmaker, settings):
        yield client


@pytest.fixture
async def down_client(
    sessionmaker: async_sessionmaker[HubSession],
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(search_url=dead_url(), search_timeout=2)
    async for client in hub_client(sessionmaker, settings):
        yield client


async def test_the_investor_question(client: httpx.AsyncClient, corpus: Corpus) -> None:
    result = await post(client, INVESTOR)

    assert "errors" not in result
    huawei = corpus.enterprises["huawei"]
    answer = result["data"]["searchEnterprises"]
    assert (answer["totalCount"], answer["totalCountExact"]) == (1, True)
    assert answer["facets"] == {
        "regions": [{"code": "440000", "name": "广东省", "count": 1}],
        "creditGrades": [{"grade": "A", "count": 1}],
        "industries": [{"code": "C39", "name": "计算机、通信和其他电子设备制造业", "count": 1}],
        "blacklisted": [{"value": False, "count": 1}],
    }
    [edge] = answer["edges"]
    assert edge["score"] == 14.0
    assert edge["highlights"] == [
        {"field": "name", "fragments": ["<em>华为</em>技术有限公司"]},
        {"field": "brands", "fragments": ["<em>华为</em>"]},
    ]
    assert edge["node"] == {
        "uscc": huawei.uscc,
        "name": "华为技术有限公司",
        "creditGrade": "A",
        "blacklisted": False,
        "licences": {"nodes": [{"status": "VALID"}]},
    }
    assert result["extensions"]["search"] == {
        "backend": "embedded",
        "fields": [{"field": "searchEnterprises", "backend": "embedded"}],
    }


async def test_a_capped_count_says_it_is_a_lower_bound_and_sampled_facets_say_so(
    corpus: Corpus,
    sessionmaker: async_sessionmaker[HubSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: 84 enterprises matching 华为, a hub that counts at most 5 matches, and a probe
    # of one record in four (so that these few count as many)
    async with sessionmaker() as session, session.begin():
        more = [await make_enterprise(session, name=f"华为{n}号科技有限公司") for n in range(80)]
    await reindex(sessionmaker, EMBEDDED)
    monkeypatch.setattr("search.embedded_search._EXACT_READ", 1)
    monkeypatch.setattr("search.embedded_search.LEVELS", 2)
    document = """{ searchEnterprises(query: "华为", first: 3) { totalCount totalCountExact
        facetsSampled facets { creditGrades { count } } nodes { name } } }"""

    # when: facets counted over all matches up to the default sample, then up to 10
    async for client in hub_client(sessionmaker, Settings(), count_limit=5):
        every = (await post(client, document))["data"]["searchEnterprises"]
        monkeypatch.setattr("search.embedded_search.FACET_SAMPLE", 10)
        sampled = (await post(client, document))["data"]["searchEnterprises"]

    # then: the best results are there; the count stops at 5, a lower bound
    for answer in (every, sampled):
        assert [node["name"] for node in answer["nodes"]] == [
            "华为技术有限公司",
            "华为海洋网络有限公司",
            "华为0号科技有限公司",
        ]
        assert (answer["totalCount"], answer["totalCountExact"]) == (5, False)
    # and the facets count every match, or say they are a sample: of one record in four,
    # each count times four
    grades = [facet["count"] for facet in every["facets"]["creditGrades"]]
    assert (sum(grades), every["facetsSampled"]) == (len(more) + 4, False)
    grades = [facet["count"] for facet in sampled["facets"]["creditGrades"]]
    assert ([n % 4 for n in grades], sampled["facetsSampled"]) == ([0] * len(grades), True)


async def test_codes_go_straight_to_their_enterprise(
    client: httpx.AsyncClient, corpus: Corpus
) -> None:
    huawei = corpus.enterprises["huawei"]
    licence = corpus.licences["huawei"].number
    gtin = corpus.products["tablet"].gtin
    assert gtin is not None
    for code, field, name in [
        (huawei.uscc, "uscc", "华为技术有限公司"),
        (huawei.uscc.lower(), "uscc", "华为技术有限公司"),
        (licence, "licenceNumber", "华为技术有限公司"),
        (gtin, "gtin", "北京数码贸易有限公司"),
    ]:
        answer = (await data(client, PLAIN, {"q": code}))["searchEnterprises"]
        assert answer == {
            "totalCount": 1,
            "edges": [
                {
                    "score": 100.0,
                    "highlights": [{"field": field, "fragments": [f"<em>{code.upper()}</em>"]}],
                    "node": {"name": name},
                }
            ],
        }


async def test_recalls_and_warnings_by_free_text(client: httpx.AsyncClient, corpus: Corpus) -> None:
    recalls = await data(
        client,
        """{ searchRecalls(query: "过热", filter: { startedAfter: "2025-07-15" }) {
            totalCount facets { categories { value count } statuses { status count }
            kinds { kind count } }
            edges { score highlights { field fragments }
                    node { title enterprise { name } } } } }""",
    )
    assert recalls["searchRecalls"] == {
        "totalCount": 1,
        "facets": {
            "categories": [{"value": "电子产品", "count": 1}],
            "statuses": [{"status": "ONGOING", "count": 1}],
            "kinds": [{"kind": "VOLUNTARY", "count": 1}],
        },
        "edges": [
            {
                "score": 2.0,
                "highlights": [{"field": "hazard", "fragments": ["充电时<em>过热</em>"]}],
                "node": {
                    "title": "华为技术有限公司召回部分充电器",
                    "enterprise": {"name": "华为技术有限公司"},
                },
            }
        ],
    }
    warnings = await data(
        client,
        """{ searchConsumerWarnings(query: "玩具") { totalCount
            facets { severities { severity count } categories { value count } }
            nodes { title } } }""",
    )
    assert warnings["searchConsumerWarnings"] == {
        "totalCount": 1,
        "facets": {
            "severities": [{"severity": "MEDIUM", "count": 1}],
            "categories": [{"value": "玩具", "count": 1}],
        },
        "nodes": [{"title": "警惕儿童玩具小零件"}],
    }


@pytest.mark.parametrize(
    ("document", "argument"),
    [
        ('{ searchEnterprises(query: "华为", first: 101) { totalCount } }', "first"),
        ('{ searchEnterprises(query: "  ，。 ") { totalCount } }', "query"),
        (
            '{ searchEnterprises(query: "华为", filter: { regionCode: "44" }) { totalCount } }',
            "filter.regionCode",
        ),
        (
            '{ searchEnterprises(query: "华为", filter: { industryCode: "x" }) { totalCount } }',
            "filter.industryCode",
        ),
        ('{ searchEnterprises(query: "华为", after: "nope") { totalCount } }', "after"),
        (
            '{ searchRecalls(query: "过热", filter: { startedAfter: "2025-08-01", '
            'startedBefore: "2025-07-01" }) { totalCount } }',
            "filter.startedBefore",
        ),
    ],
)
async def test_bad_input_names_the_argument(
    client: httpx.AsyncClient, corpus: Corpus, document: str, argument: str
) -> None:
    found = await error(client, document)
    assert found["extensions"]["code"] == "BAD_USER_INPUT"
    assert found["extensions"]["argument"] == argument


async def test_elasticsearch_answers_when_configured(
    elastic_client: httpx.AsyncClient, indexed: Corpus
) -> None:
    result = await post(elastic_client, PLAIN, {"q": "华为"})
    assert [e["node"]["name"] for e in result["data"]["searchEnterprises"]["edges"]] == HUAWEI
    assert result["extensions"]["search"]["backend"] == "elasticsearch"


async def test_an_unreachable_elasticsearch_falls_back_to_embedded(
    down_client: httpx.AsyncClient, corpus: Corpus
) -> None:
    result = await post(down_client, PLAIN, {"q": "华为"})

    assert "errors" not in result
    assert result["data"]["searchEnterprises"]["totalCount"] == 4
    report = result["extensions"]["search"]
    assert report["backend"] == "embedded"
    assert report["reason"].startswith("elasticsearch unavailable: mappings: ConnectionError")
    # Other fields are not affected, and carry no search report.
    other = await post(down_client, "{ enterprises(first: 1) { totalCount } }")
    assert other["data"] == {"enterprises": {"totalCount": 9}}
    assert "search" not in other.get("extensions", {})


async def test_searches_beside_other_fields_share_the_operations_session(
    own: async_sessionmaker[HubSession], tmp_path: Path
) -> None:
    """Sibling fields resolve concurrently on one session: every statement of a search must go
    through the session's lock (a search that ran one on the session's connection directly
    failed with 'another operation is in progress' on PostgreSQL)."""
    # given: the corpus, committed in a database of the test's own (a pool, as a hub has)
    async with own() as session, session.begin():
        await make_corpus(session)
    await reindex(own, EMBEDDED)
    document = """{
        statistics { spotChecksByCategory { category } }
        enterprises: searchEnterprises(query: "华为", first: 5) {
            totalCount facets { creditGrades { grade count } } nodes { name } }
        recalls: searchRecalls(query: "电动自行车", first: 5) { totalCount totalCountExact }
        warnings: searchConsumerWarnings(query: "电动自行车") { totalCount }
        blacklist(first: 3) { totalCount }
    }"""
    settings = Settings(signing_key_path=tmp_path / "signing-key.pem")

    # when: eight such operations at once
    async for client in hub_client(own, settings):
        answers = await asyncio.gather(*(post(client, document) for _ in range(8)))

    # then: every one answered in full, and all alike
    assert [answer.get("errors") for answer in answers] == [None] * 8
    first = answers[0]["data"]
    counts = [first[field]["totalCount"] for field in ("enterprises", "recalls", "warnings")]
    assert counts == [4, 1, 1]
    assert [answer["data"] for answer in answers] == [first] * 8


async def test_facet_values_that_tie_are_ordered_by_value(
    client: httpx.AsyncClient, corpus: Corpus
) -> None:
    # given: two enterprises graded A match 华为, one of them blacklisted: counts that tie
    # (sorting them compared False with the empty string: INTERNAL)
    result = await post(
        client,
        """{ searchEnterprises(query: "华为", filter: { creditGrades: [A] }) {
            totalCount facets { blacklisted { value count } } } }""",
    )

    assert result.get("errors") is None, result
    assert result["data"]["searchEnterprises"] == {
        "totalCount": 2,
        "facets": {"blacklisted": [{"value": False, "count": 1}, {"value": True, "count": 1}]},
    }


@pytest.mark.parametrize("compiled", [False, True], ids=["resolvers", "compiled"])
async def test_a_search_ends_its_transaction_after_the_answer_is_sent(
    own: async_sessionmaker[HubSession],
    elastic: ElasticBackend,
    prefix: str,
    tmp_path: Path,
    compiled: bool,
) -> None:
    """The resolvers: the ROLLBACK that ends a read goes out after the answer (schema.http),
    so the caller does not wait for it; the connection still goes back to the pool when the
    request ends. The compiled path: Elasticsearch answered, so the hits' statement ran on a
    pooled connection without a transaction (nothing to end), had while Elasticsearch searched
    and given back once the answer is out too (schema.compiled.endpoint._Ahead)."""
    from hub.app import create_app

    # given: the corpus in a database with a pool of its own, indexed in Elasticsearch
    async with own() as session, session.begin():
        await make_corpus(session)
    await reindex(own, ELASTICSEARCH, elastic)
    pool = own.kw["bind"].sync_engine.pool
    settings = Settings(
        search_url=elastic.url,
        search_index_prefix=prefix,
        signing_key_path=tmp_path / "signing-key.pem",
        compile_queries=compiled,
    )
    app = create_app(settings, sessionmaker=own)
    held_when_answered: list[int] = []

    async def watched(scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                held_when_answered.append(pool.checkedout())
            await send(message)

        await app(scope, receive, sending)

    # when: a search through Elasticsearch
    transport = httpx.ASGITransport(app=watched)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        response = await client.post("/graphql", json={"query": PLAIN, "variables": {"q": "华为"}})
    await app.state.search.close()

    # then: the answer was sent while the session (the resolvers) or the statement (compiled)
    # still held its connection, given back after
    result = response.json()
    assert [e["node"]["name"] for e in result["data"]["searchEnterprises"]["edges"]] == HUAWEI
    assert result["extensions"]["search"]["backend"] == "elasticsearch"
    assert response.headers["x-hub-plan"] == ("compiled" if compiled else "resolvers")
    assert held_when_answered == [1]
    assert pool.checkedout() == 0


async def test_with_tracing_a_search_sent_to_elasticsearch_is_a_span_of_its_request(
    sessionmaker: async_sessionmaker[HubSession],
    elastic: ElasticBackend,
    prefix: str,
    indexed: Corpus,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: the hub tracing to an exporter of the test's
    exported = InMemorySpanExporter()
    monkeypatch.setattr(tracing, "span_exporter", lambda _: exported)
    settings = Settings(
        search_url=elastic.url,
        search_index_prefix=prefix,
        signing_key_path=tmp_path / "signing-key.pem",
        otlp_endpoint="http://127.0.0.1:4318",
    )
    app = create_app(settings, sessionmaker=sessionmaker)
    try:
        # when: a search that Elasticsearch answers
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            result = await post(client, PLAIN, {"q": "华为"})
        app.state.tracing.provider.force_flush()
    finally:
        await app.state.search.close()
        app.state.tracing.close()
    # then: its request to the node is a client span of the request's trace
    assert result["extensions"]["search"]["backend"] == "elasticsearch"
    spans = exported.get_finished_spans()
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    (search,) = [s for s in spans if s.kind is SpanKind.CLIENT and s.name == "search"]
    assert search.context.trace_id == server.context.trace_id
    assert dict(search.attributes or {}) == {
        "db.system": "elasticsearch",
        "db.operation": "search",
        "db.name": f"{prefix}-enterprise",
    }
