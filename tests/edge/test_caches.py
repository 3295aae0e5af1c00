"""The caches of parsed documents and compiled plans are bounded by bytes, not by entries.

Before, each distinct 10 MB query left about 21.5 MB in caches of 1,024 entries: 22 GB a
process. Now a document is weighed by what it holds (``schema.documents.weight``) and the
caches keep no more than their weight in bytes, however many distinct documents arrive.
"""

from __future__ import annotations

import gc
import tracemalloc

import pytest
from graphql import parse
from sqlalchemy.ext.asyncio import async_sessionmaker

import schema.compiled.plan
import schema.documents
from hub.auth.principal import Tier
from hub.config import Settings
from hub.db import HubSession
from schema.documents import DocumentCache, weight
from tests.fixtures.limits import bearer, endpoint_of, hub_client

README_DOCUMENT = """{ enterprise(uscc: "91110000600037341L") {
    uscc name status region { code name } industry { code name }
    creditGrade creditHistory(first: 5) { nodes { grade score evaluatedAt authority basis } }
    licences(first: 10) { nodes { number product status validFrom validUntil } }
    recalls(first: 10) { nodes { noticeNumber title hazard remedy affectedUnits } } } }"""


def held_by_parsing(query: str) -> int:
    """The bytes that parsing ``query`` leaves allocated while its document lives."""
    gc.collect()
    tracemalloc.start()
    try:
        document = parse(query, max_tokens=100_000)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert document.loc is not None
    return held


@pytest.mark.parametrize(
    "query",
    [
        "{ " + "a " * 1998 + "}",  # 2,000 tokens in 4 KB: 280 bytes per character
        README_DOCUMENT,
        '{ enterprise(uscc: "' + "1" * 100_000 + '") { name } }',  # one token of 100 KB
    ],
    ids=["dense", "readme", "literal"],
)
def test_a_document_weighs_at_least_what_it_holds(query: str) -> None:
    held = held_by_parsing(query) + len(query)  # the text, kept as the cache's key
    assert held <= weight(query, parse(query, max_tokens=100_000)) <= 3 * held


def test_a_document_heavier_than_the_cache_is_not_kept() -> None:
    cache = DocumentCache(max_bytes=10_000)
    small, large = "{ __typename }", "{ __typename " + "# x\n" * 5_000 + "}"
    assert cache.parse(large, {}) is not cache.parse(large, {})
    assert cache.parse(small, {}) is cache.parse(small, {})
    assert [key for key, _ in cache.entries.items()] == [(small, ())]


async def test_many_distinct_large_documents_stay_within_the_bound(
    dialect: str,
    sessionmaker: async_sessionmaker[HubSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given caches of 2 MB of documents and, on PostgreSQL, 1 MB of plans per tier
    documents = DocumentCache(max_bytes=2_000_000)
    monkeypatch.setattr(schema.documents, "DOCUMENTS", documents)
    monkeypatch.setattr(schema.compiled.plan, "PLAN_CACHE_BYTES", 1_000_000)
    monkeypatch.setattr(schema.compiled.plan, "REFUSAL_CACHE_BYTES", 200_000)
    settings = Settings()
    async with hub_client(settings, sessionmaker) as hub:
        compiled = endpoint_of(hub._transport.app).compiled  # type: ignore[attr-defined]

        # when a partner sends 40 distinct documents of 45,000 characters of each kind: one
        # the compiled path answers on PostgreSQL, one it leaves to the resolvers (which
        # refuse its unknown field)
        for i in range(40):
            comment = f"# {i} " + "x" * 45_000
            readable = f"{{ enterprises(first: 1) {{ totalCount }} {comment}\n}}"
            refused = f'{{ enterprise(uscc: "{i}{"1" * 45_000}") {{ nope }} }}'
            for query in (readable, refused):
                response = await hub.post(
                    "/graphql", json={"query": query}, headers=bearer("partner-a")
                )
                assert response.status_code == 200, response.text

    # then: each cache holds no more than its bound, and holds the most recent documents
    assert 0 < documents.bytes <= 2_000_000
    assert (refused, (("max_tokens", 5_000),)) in documents.entries
    assert len(documents.entries) < 40
    assert compiled is not None  # on SQLite as on PostgreSQL
    plans = compiled.tiers[Tier.PARTNER]
    assert 0 < plans.plans.currsize <= 1_000_000
    assert (readable, None) in plans.plans
    assert 0 < plans.refused.currsize <= 200_000
    assert (refused, None) in plans.refused
