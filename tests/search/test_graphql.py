"""The search fields over HTTP, as a client sends them, with exact answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.config import Settings
from hub.db import HubSession
from search.elastic import ElasticBackend
from tests.fixtures.graphql import data, error, post
from tests.search.conftest import dead_url
from tests.search.corpus import Corpus

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


async def _client(
    sessionmaker: async_sessionmaker[HubSession], settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    from hub.app import create_app

    app = create_app(settings, sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client
    await app.state.search.close()


@pytest.fixture
async def elastic_client(
    sessionmaker: async_sessionmaker[HubSession], elastic: ElasticBackend, prefix: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(search_url=elastic.url, search_index_prefix=prefix)
    async for client in _client(sessionmaker, settings):
        yield client


@pytest.fixture
async def down_client(
    sessionmaker: async_sessionmaker[HubSession],
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(search_url=dead_url(), search_timeout=2)
    async for client in _client(sessionmaker, settings):
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


async def test_a_capped_count_says_it_is_a_lower_bound(
    client: httpx.AsyncClient, corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: an embedded index that counts at most 2 matches (4 enterprises match 华为)
    monkeypatch.setattr("search.embedded.COUNT_LIMIT", 2)

    # when
    result = await post(
        client,
        """{ searchEnterprises(query: "华为") { totalCount totalCountExact
            facets { creditGrades { count } } nodes { name } } }""",
    )

    # then: every result is there, the count and the facets stop at 2
    answer = result["data"]["searchEnterprises"]
    assert (answer["totalCount"], answer["totalCountExact"]) == (2, False)
    assert sum(facet["count"] for facet in answer["facets"]["creditGrades"]) == 2
    assert [node["name"] for node in answer["nodes"]] == [
        "华为技术有限公司",
        "华为海洋网络有限公司",
        "深圳市华为终端有限公司",
        "北京数码贸易有限公司",
    ]


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
    assert [e["node"]["name"] for e in result["data"]["searchEnterprises"]["edges"]] == [
        "华为技术有限公司",
        "华为海洋网络有限公司",
        "深圳市华为终端有限公司",
        "北京数码贸易有限公司",
    ]
    assert result["extensions"]["search"]["backend"] == "elasticsearch"


async def test_an_unreachable_elasticsearch_falls_back_to_embedded(
    down_client: httpx.AsyncClient, corpus: Corpus
) -> None:
    result = await post(down_client, PLAIN, {"q": "华为"})

    assert "errors" not in result
    assert result["data"]["searchEnterprises"]["totalCount"] == 4
    report = result["extensions"]["search"]
    assert report["backend"] == "embedded"
    assert report["reason"].startswith("elasticsearch unavailable: search: ConnectionError")
    # Other fields are not affected, and carry no search report.
    other = await post(down_client, "{ enterprises(first: 1) { totalCount } }")
    assert other["data"] == {"enterprises": {"totalCount": 9}}
    assert "search" not in other.get("extensions", {})
