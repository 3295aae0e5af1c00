"""Search documents on the compiled path answer byte for byte what the resolvers answer.

Each document goes to two apps over the same data: the hub as it runs (compiled reads on) and
the hub with ``HUB_COMPILE_QUERIES=false``. The first must really compile it (``X-Hub-Plan:
compiled``), and both bodies must be the same bytes: the records of the hits, the facets'
names, scores, cursors, highlights and ``extensions.search`` alike. Requests the search
refuses go to the resolvers, which answer them as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from hub.auth.principal import Tier
from hub.config import Settings
from hub.db import HubSession
from hub.enterprise.models import Enterprise
from hub.limits import Limits
from schema.build import build_schema
from schema.compiled.endpoint import CompiledReads
from search.elastic import ElasticBackend
from search.service import SearchService
from tests.fixtures.principals import INTERNAL, PUBLIC, run_as
from tests.search.client import hub_client
from tests.search.conftest import dead_url
from tests.search.corpus import Corpus

QUERY_SET = Path(__file__).parents[2] / "benchmarks" / "search_queries.json"
DOCUMENTS: dict[str, dict[str, str]] = json.loads(QUERY_SET.read_text())["documents"]
"""The benchmark's documents (``benchmarks/search_queries.json``), by field and shape."""

BENCHMARK: list[tuple[str, str, dict[str, Any] | None]] = [
    ("searchEnterprises", "华为", None),
    ("searchEnterprises", "华为", {"regionCode": "440000"}),
    ("searchEnterprises", "华为", {"creditGrades": ["A", "B"], "blacklisted": False}),
    ("searchEnterprises", "华为", {"hasValidLicence": True, "regionCode": "440300"}),
    ("searchEnterprises", "石油", {"blacklisted": True}),
    ("searchEnterprises", "有限公司", None),
    ("searchEnterprises", "TCL科技", None),
    ("searchEnterprises", "3m", None),
    ("searchRecalls", "召回", None),
    ("searchRecalls", "电动自行车", {"status": "ONGOING"}),
    ("searchRecalls", "召回", {"regionCode": "440000", "startedAfter": "2025-01-01"}),
    ("searchConsumerWarnings", "电动自行车", None),
    ("searchConsumerWarnings", "玩具", {"severity": "MEDIUM"}),
    ("searchConsumerWarnings", "风险", {"issuedAfter": "2025-01-01"}),
]

README = [
    """{ searchEnterprises(query: "科技", filter: { regionCode: "440000", creditGrades: [A, B],
        blacklisted: false, hasValidLicence: true }, first: 20) {
        totalCount
        facets { regions { code name count } creditGrades { grade count }
                 industries { code name count } blacklisted { value count } }
        edges { cursor score highlights { field fragments }
                node { uscc name creditGrade blacklisted licences(first: 3) { nodes { status } } } }
    } }""",
    '{ searchRecalls(query: "超标", first: 10) { totalCount edges { score node { title } } } }',
    '{ searchRecalls(query: "召回", first: 10) { totalCount edges { score node { title } } } }',
]

SHAPES = [
    # every part of a connection, __typename, aliases and fragments
    """query($q: String!, $first: Int) { hits: searchEnterprises(query: $q,
        first: $first) { __typename totalCount exact: totalCountExact facetsSampled
        pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
        nodes { ...Firm } edges { __typename cursor score
            highlights { __typename field fragments } node { ...Firm id } }
        facets { __typename regions { __typename code name count } creditGrades { grade }
                 industries { name } blacklisted { count value } } } }
    fragment Firm on Enterprise { __typename uscc name region { name } industry { code }
        blacklisted blacklistEntries { listType } creditHistory(first: 2) { nodes { score } } }""",
    # facets named but not counted, names of industries only, a fragment on the connection
    """query($q: String!) { searchEnterprises(query: $q, first: 2) { ...Page
        facets { industries { code name } } } }
    fragment Page on EnterpriseSearchConnection { totalCount edges { node { name } } }""",
    # two searches and a lookup in one document
    """query($q: String!, $uscc: String!) { a: searchEnterprises(query: $q, first: 1) {
        edges { node { name } } } enterprise(uscc: $uscc) { name }
        b: searchRecalls(query: "召回") { nodes { title enterprise { name } }
            facets { kinds { kind count } statuses { status } categories { value } } }
        c: searchConsumerWarnings(query: "玩具") { nodes { title relatedRecalls { title } }
            facets { severities { severity count } } } }""",
    # no record selected: the hits the caller may not see are dropped all the same
    """query($q: String!) { searchEnterprises(query: $q) { totalCount
        edges { cursor score } pageInfo { endCursor } } }""",
    # one key twice: the resolver counts facets only if its first field names them
    """query($q: String!) { searchEnterprises(query: $q) { totalCount }
        searchEnterprises(query: $q) { facetsSampled facets { regions { name } } } }""",
    # @skip and @include, by the document and by variables
    """query($q: String!, $with: Boolean = true) { searchEnterprises(query: $q) {
        facets @include(if: $with) { regions { name count } }
        edges { node { name @skip(if: $with) uscc } } } }""",
]

REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("searchEnterprises", {"query": "华为", "after": "not-a-cursor"}),
    ("searchEnterprises", {"query": "!!!"}),
    ("searchEnterprises", {"query": "华为", "first": 1000}),
    ("searchEnterprises", {"query": "华为", "first": -1}),
    ("searchEnterprises", {"query": "华为", "filter": {"regionCode": "12"}}),
    ("searchEnterprises", {"query": "华为", "filter": {"industryCode": "nope"}}),
    ("searchEnterprises", {"query": "华为", "filter": {"creditGrades": ["Z"]}}),
    ("searchEnterprises", {"query": 5}),
    ("searchEnterprises", {"query": "华为", "first": "ten"}),
    (
        "searchRecalls",
        {"query": "召回", "filter": {"startedAfter": "2025-02-01", "startedBefore": "2025-01-01"}},
    ),
    ("searchConsumerWarnings", {"query": "玩具", "filter": {"issuedAfter": "someday"}}),
]


@pytest.fixture
async def both(
    sessionmaker: async_sessionmaker[HubSession], tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """The hub, compiled reads on and off, with the embedded index."""
    async for compiled in hub_client(sessionmaker, _settings(tmp_path)):
        async for resolvers in hub_client(sessionmaker, _settings(tmp_path, compile_queries=False)):
            yield compiled, resolvers


def _settings(directory: Path, **changes: Any) -> Settings:
    return Settings(signing_key_path=directory / "signing-key.pem", **changes)


async def _same(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
    query: str,
    variables: dict[str, Any] | None = None,
    plan: str = "compiled",
) -> dict[str, Any]:
    """Both answers, which must be the same bytes; the first must come from ``plan``."""
    compiled, resolvers = both
    body: dict[str, Any] = {"query": query, "variables": variables or {}}
    one = await compiled.post("/graphql", json=body)
    other = await resolvers.post("/graphql", json=body)
    assert one.headers["x-hub-plan"] == plan, (query, variables)
    assert other.headers["x-hub-plan"] == "resolvers"
    assert (one.status_code, one.content) == (other.status_code, other.content), (
        query,
        variables,
    )
    answer: dict[str, Any] = orjson.loads(one.content)
    return answer


async def test_the_benchmarks_documents_answer_as_the_resolvers_do(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], corpus: Corpus
) -> None:
    found = {}
    for field, text, filter in BENCHMARK:
        for shape, document in DOCUMENTS[field].items():
            for first in (20, 1):
                variables = {"query": text, "filter": filter, "first": first}
                answer = await _same(both, document, variables)
                assert "errors" not in answer, answer
                found[field, text, json.dumps(filter), shape, first] = answer["data"][field]
    # what they hold: the page, facets named, the hidden draft left out
    page = found["searchEnterprises", "华为", "null", "facets", 20]
    assert [edge["node"]["name"] for edge in page["edges"]] == [
        "华为技术有限公司",
        "华为海洋网络有限公司",
        "深圳市华为终端有限公司",
        "北京数码贸易有限公司",
    ]
    assert page["facets"]["regions"] == [
        {"code": "440000", "name": "广东省", "count": 2},
        {"code": "110000", "name": "北京市", "count": 1},
        {"code": "120000", "name": "天津市", "count": 1},
    ]
    one = found["searchEnterprises", "华为", "null", "page", 1]
    assert (len(one["edges"]), one["pageInfo"]["hasNextPage"]) == (1, True)
    recalls = found["searchRecalls", "召回", "null", "facets", 20]
    assert recalls["totalCount"] == len(recalls["edges"]) >= 2


async def test_the_readmes_examples_and_other_shapes_answer_as_the_resolvers_do(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], corpus: Corpus
) -> None:
    for document in README:
        assert "errors" not in await _same(both, document)
    huawei = corpus.enterprises["huawei"]
    for document in SHAPES:
        for q in ("华为", "召回", "有限公司"):
            variables = {"q": q, "uscc": huawei.uscc, "first": 3}
            answer = await _same(both, document, variables)
            assert "errors" not in answer, answer
    skipped = await _same(both, SHAPES[-1], {"q": "华为", "with": False})
    assert skipped["data"]["searchEnterprises"]["edges"][0] == {
        "node": {"name": "华为技术有限公司", "uscc": huawei.uscc}
    }


async def test_codes_and_pages_after_a_cursor_answer_as_the_resolvers_do(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], corpus: Corpus
) -> None:
    document = (
        DOCUMENTS["searchEnterprises"]["facets"]
        .replace("$first: Int)", "$first: Int, $after: String)")
        .replace("first: $first)", "first: $first, after: $after)")
    )
    huawei = corpus.enterprises["huawei"]
    for code in (huawei.uscc, corpus.licences["huawei"].number):
        answer = await _same(both, document, {"query": code})
        assert [e["node"]["uscc"] for e in answer["data"]["searchEnterprises"]["edges"]] == [
            huawei.uscc
        ]
        assert answer["extensions"]["search"]["fields"][0]["backend"] == "embedded"
    after = None
    names = []
    while True:
        answer = await _same(both, document, {"query": "有限公司", "first": 2, "after": after})
        page = answer["data"]["searchEnterprises"]
        names += [edge["node"]["name"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(names) == len(set(names)) >= 8


async def test_refused_arguments_go_to_the_resolvers_and_are_refused_as_before(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], corpus: Corpus
) -> None:
    for field, variables in REFUSED:
        kind = field.removeprefix("search").removesuffix("s")
        kind = {"Enterprise": "Enterprise", "Recall": "Recall"}.get(kind, "ConsumerWarning")
        document = (
            f"query($query: String!, $filter: {kind}SearchFilterInput, $first: Int, "
            f"$after: String) {{ {field}(query: $query, filter: $filter, first: $first, "
            "after: $after) { totalCount nodes { __typename } } }"
        )
        answer = await _same(both, document, variables, plan="resolvers")
        assert answer["errors"][0]["extensions"]["code"] in ("BAD_USER_INPUT", "BAD_REQUEST")


async def test_a_search_beside_a_field_without_a_sql_form_goes_whole_to_the_resolvers(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], corpus: Corpus
) -> None:
    document = """{ searchEnterprises(query: "华为") { totalCount }
        statistics { recallsByMonth(fromMonth: "2025-01") { month count } } }"""
    answer = await _same(both, document, plan="resolvers")
    assert answer["data"]["searchEnterprises"] == {"totalCount": 4}


async def test_a_bug_in_building_a_compiled_search_answer_leaves_it_to_the_resolvers(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
    corpus: Corpus,
    monkeypatch: pytest.MonkeyPatch,
    compiled_errors: list[logging.LogRecord],
) -> None:
    # given: the answer of a compiled search cannot be built (a bug)
    def broken(*_: object) -> bytes:
        raise RuntimeError("a bug in building the answer")

    monkeypatch.setattr("schema.compiled.search.body", broken)

    # when / then: the resolvers answer, the same as ever; the failure is an ERROR
    document = DOCUMENTS["searchEnterprises"]["facets"]
    answer = await _same(both, document, {"query": "华为"}, plan="resolvers")
    assert answer["data"]["searchEnterprises"]["totalCount"] == 4
    assert [(r.levelno, r.getMessage()) for r in compiled_errors] == [
        (logging.ERROR, "compiled read failed; the resolvers answer")
    ]
    compiled_errors.clear()


async def test_a_hit_whose_record_is_hidden_now_is_dropped_as_the_resolvers_drop_it(
    sessionmaker: async_sessionmaker[HubSession],
    indexed: Corpus,
    elastic: ElasticBackend,
    prefix: str,
    tmp_path: Path,
) -> None:
    # given: the index still holds an enterprise whose record is no longer published
    terminal = indexed.enterprises["terminal"]
    async with sessionmaker() as session, session.begin():
        hidden = update(Enterprise).where(Enterprise.id == terminal.id)
        await session.execute(hidden.values(published_at=None))
    # (a patient hub: the test's Elasticsearch is shared with other work)
    settings = _settings(
        tmp_path, search_url=elastic.url, search_index_prefix=prefix, search_query_timeout=30
    )
    document = DOCUMENTS["searchEnterprises"]["facets"]
    async for compiled in hub_client(sessionmaker, settings):
        off = settings.model_copy(update={"compile_queries": False})
        async for resolvers in hub_client(sessionmaker, off):
            # when: Elasticsearch finds it
            answer = await _same((compiled, resolvers), document, {"query": "华为"})
    # then: its hit is left out of the page, not its count
    page = answer["data"]["searchEnterprises"]
    assert answer["extensions"]["search"]["backend"] == "elasticsearch"
    assert [edge["node"]["name"] for edge in page["edges"]] == [
        "华为技术有限公司",
        "华为海洋网络有限公司",
        "北京数码贸易有限公司",
    ]
    assert page["totalCount"] == 4


async def test_elasticsearch_down_falls_back_as_the_resolvers_do(
    sessionmaker: async_sessionmaker[HubSession], corpus: Corpus, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, search_url=dead_url(), search_timeout=2)
    document = DOCUMENTS["searchEnterprises"]["facets"]
    async for compiled in hub_client(sessionmaker, settings):
        off = settings.model_copy(update={"compile_queries": False})
        async for resolvers in hub_client(sessionmaker, off):
            answer = await _same((compiled, resolvers), document, {"query": "华为"})
    assert answer["extensions"]["search"]["backend"] == "embedded"
    assert answer["extensions"]["search"]["reason"].startswith("elasticsearch unavailable: ")
    assert len(answer["data"]["searchEnterprises"]["edges"]) == 4


@pytest.mark.parametrize("principal", [PUBLIC, INTERNAL], ids=["public", "internal"])
async def test_each_tier_sees_the_hits_its_rules_show(
    sessionmaker: async_sessionmaker[HubSession],
    connection: AsyncConnection,
    corpus: Corpus,
    principal: Any,
) -> None:
    # the draft 华为草稿有限公司 is an internal caller's hit only
    reads = CompiledReads(
        connection, {t: build_schema(t) for t in Tier}, Limits(), sessionmaker=sessionmaker
    )
    document = DOCUMENTS["searchEnterprises"]["facets"]
    variables = {"query": "华为草稿"}
    compiled = await reads.answer(principal.tier, document, variables, search=SearchService())
    assert compiled is not None
    resolved = await run_as(principal, sessionmaker, document, variables)
    answer = orjson.loads(compiled)
    assert answer["data"] == resolved["data"]
    names = [e["node"]["name"] for e in answer["data"]["searchEnterprises"]["edges"]]
    assert ("华为草稿有限公司" in names) is (principal.tier is Tier.INTERNAL)


async def test_a_search_elasticsearch_answers_gives_its_turn_and_connection_back(
    sessionmaker: async_sessionmaker[HubSession],
    connection: AsyncConnection,
    indexed: Corpus,
    elastic: ElasticBackend,
) -> None:
    await _gives_back(sessionmaker, connection, SearchService(elastic, timeout=30), "elasticsearch")


async def test_a_search_that_falls_back_gives_its_turn_and_connection_back(
    sessionmaker: async_sessionmaker[HubSession], connection: AsyncConnection, corpus: Corpus
) -> None:
    service = SearchService(ElasticBackend(dead_url(), timeout=2))
    await _gives_back(sessionmaker, connection, service, "embedded")


async def _gives_back(
    sessionmaker: async_sessionmaker[HubSession],
    connection: AsyncConnection,
    service: SearchService,
    backend: str,
) -> None:
    # given: compiled reads with one turn at their gate, and an Elasticsearch asked first
    # (the statement's connection is then had while it searches)
    reads = CompiledReads(
        connection,
        {t: build_schema(t) for t in Tier},
        Limits(),
        concurrency=1,
        sessionmaker=sessionmaker,
    )
    assert service.asks_elastic("华为")
    document = DOCUMENTS["searchEnterprises"]["page"]
    # when: a search is answered
    try:
        body = await reads.answer(Tier.PUBLIC, document, {"query": "华为"}, search=service)
    finally:
        await service.close()
    # then: by the backend that could, with the hits' records; and the gate's one turn is
    # free again: nothing holds it, or the connection, once the answer is sent
    assert body is not None
    answer = orjson.loads(body)
    assert answer["extensions"]["search"]["backend"] == backend
    names = [edge["node"]["name"] for edge in answer["data"]["searchEnterprises"]["edges"]]
    assert names[:2] == ["华为技术有限公司", "华为海洋网络有限公司"]
    ahead = [task for task in asyncio.all_tasks() if "_Ahead" in repr(task.get_coro())]
    await asyncio.wait_for(asyncio.gather(*ahead, return_exceptions=True), timeout=5)
    assert not reads.gate.locked()
