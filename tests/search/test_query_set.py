"""The benchmark's committed query set (``benchmarks/search_queries.json``): what issue 15 asks
of it, and that every query is one the public schema answers as sent."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, validate

from benchmarks.search_latency import Query, conditions, load_queries
from hub.auth.principal import Tier
from schema.build import build_schema
from search.backend import Conditions
from search.service import SearchService, detect_code
from tests.fixtures.graphql import post

QUERIES = Path(__file__).resolve().parents[2] / "benchmarks" / "search_queries.json"


def test_the_set_covers_what_the_issue_lists() -> None:
    committed = json.loads(QUERIES.read_text())
    queries = committed["queries"]
    texts = {query["query"] for query in queries}
    fields = Counter(query["field"] for query in queries)

    assert len(queries) >= 30
    assert len({query["id"] for query in queries}) == len(queries)
    # recall and warning searches too
    assert fields["searchRecalls"] >= 5 and fields["searchConsumerWarnings"] >= 5
    # codes: a USCC, a licence number (and a GTIN); a mixed Latin-Chinese term; a whole name
    assert {code.kind for code in map(detect_code, texts) if code} == {
        "uscc",
        "licenceNumber",
        "gtin",
    }
    assert any(t.isascii() is False and any(c.isascii() and c.isalpha() for c in t) for t in texts)
    assert "北京新瑞塑胶有限公司" in texts
    # every common filter, with and without facets
    filtered = [query["filter"] or {} for query in queries if query["field"] == "searchEnterprises"]
    for name in ("regionCode", "creditGrades", "blacklisted", "hasValidLicence"):
        assert any(name in given for given in filtered), name
    assert {query["facets"] for query in queries} == {True, False}


def test_every_query_is_valid_for_the_public_tier() -> None:
    committed = json.loads(QUERIES.read_text())
    schema = build_schema(Tier.PUBLIC)._schema
    for field, documents in committed["documents"].items():
        for document in documents.values():
            assert validate(schema, parse(document)) == [], field
            assert field in document


async def test_the_benchmark_asks_elasticsearch_what_the_hub_asks(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The benchmark's direct requests to Elasticsearch are its hub's minus the hub: their
    conditions are the ones the search fields take from the same filter."""
    # given: what the hub's search service is asked, recorded
    asked: list[Conditions] = []
    search = SearchService.search

    async def recording(self: SearchService, *args: Any, **options: Any) -> Any:
        asked.append(args[3])
        return await search(self, *args, **options)

    monkeypatch.setattr(SearchService, "search", recording)
    queries = load_queries(QUERIES)

    # when: every query of the set, over HTTP
    for query in queries.queries:
        answer = await post(client, **_document(query, queries.documents))
        assert "errors" not in answer, (query.id, answer)

    # then
    assert asked == [conditions(query) for query in queries.queries]


def _document(query: Query, documents: dict[str, dict[str, str]]) -> dict[str, Any]:
    body = query.body(documents)
    return {"query": body["query"], "variables": body["variables"]}
