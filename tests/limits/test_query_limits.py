"""Each limit at its boundary and one past it, through the real app, per tier."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import get_introspection_query
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.config import Settings
from hub.db import HubSession
from tests.fixtures.limits import graphql, hub_client, limits


async def answer(
    sessionmaker: async_sessionmaker[HubSession],
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    **public: int,
) -> dict[str, Any]:
    """The JSON answer to ``query`` from an app whose public limits are changed by ``public``."""
    settings = Settings(limits=limits(public=public))
    async with hub_client(settings, sessionmaker) as client:
        response = await graphql(client, query, variables, token=token)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def only_error(result: dict[str, Any]) -> dict[str, Any]:
    assert result.get("data") is None, result
    assert len(result["errors"]) == 1, result
    error: dict[str, Any] = result["errors"][0]
    return error


COST_21 = "{ enterprises(first: 10) { nodes { name } } }"


async def test_cost_at_the_limit_runs(sessionmaker: async_sessionmaker[HubSession]) -> None:
    result = await answer(sessionmaker, COST_21, max_cost=21)
    assert result == {"data": {"enterprises": {"nodes": []}}}


async def test_cost_over_the_limit_is_refused_with_the_cost(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    error = only_error(await answer(sessionmaker, COST_21, max_cost=20))
    assert error == {
        "message": "The query costs 21; the limit is 20. "
        "Ask for fewer items with `first`, or nest fewer lists.",
        "locations": [{"line": 1, "column": 1}],
        "extensions": {"code": "QUERY_TOO_COMPLEX", "cost": 21, "maxCost": 20},
    }


async def test_cost_uses_the_variables_of_the_request(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    query = "query($n: Int!) { enterprises(first: $n) { nodes { name } } }"
    assert "errors" not in await answer(sessionmaker, query, {"n": 10}, max_cost=21)
    error = only_error(await answer(sessionmaker, query, {"n": 11}, max_cost=21))
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 23, "maxCost": 21}


async def test_depth(sessionmaker: async_sessionmaker[HubSession]) -> None:
    at_limit = "{ enterprises { nodes { name } } }"
    over = "{ enterprises { nodes { region { name } } } }"
    assert "errors" not in await answer(sessionmaker, at_limit, max_depth=3)
    error = only_error(await answer(sessionmaker, over, max_depth=3))
    assert error["message"] == "The query nests fields 4 deep; the limit is 3."
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "depth": 4, "maxDepth": 3}


async def test_aliases(sessionmaker: async_sessionmaker[HubSession]) -> None:
    assert await answer(sessionmaker, "{ a: __typename b: __typename }", max_aliases=2) == {
        "data": {"a": "Query", "b": "Query"}
    }
    error = only_error(
        await answer(sessionmaker, "{ a: __typename b: __typename c: __typename }", max_aliases=2)
    )
    assert error["message"] == "The query uses 3 aliases; the limit is 2."
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "aliases": 3, "maxAliases": 2}


async def test_aliases_in_fragments_count_per_spread(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    query = "{ ...F ...F } fragment F on Query { a: __typename b: __typename }"
    assert "errors" not in await answer(sessionmaker, query, max_aliases=4)
    error = only_error(await answer(sessionmaker, query, max_aliases=3))
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "aliases": 4, "maxAliases": 3}


async def test_directives(sessionmaker: async_sessionmaker[HubSession]) -> None:
    two = "{ enterprises @include(if: true) { totalCount @skip(if: false) } }"
    three = two.replace("} }", "} __typename @skip(if: false) }")
    assert await answer(sessionmaker, two, max_directives=2) == {
        "data": {"enterprises": {"totalCount": 0}}
    }
    error = only_error(await answer(sessionmaker, three, max_directives=2))
    assert error["message"] == "The query uses 3 directives; the limit is 2."
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "directives": 3,
        "maxDirectives": 2,
    }


async def test_tokens(sessionmaker: async_sessionmaker[HubSession]) -> None:
    # `{ __typename }` is three tokens
    assert await answer(sessionmaker, "{ __typename }", max_tokens=3) == {
        "data": {"__typename": "Query"}
    }
    error = only_error(await answer(sessionmaker, "{ __typename __typename }", max_tokens=3))
    assert error["message"] == "The document has more than 3 tokens; the limit is 3."
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "maxTokens": 3}


async def test_comments_count_as_tokens(sessionmaker: async_sessionmaker[HubSession]) -> None:
    padded = "{ __typename }\n" + "# padding\n" * 10
    error = only_error(await answer(sessionmaker, padded, max_tokens=12))
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "maxTokens": 12}
    assert "errors" not in await answer(sessionmaker, padded, max_tokens=13)


async def test_a_document_too_big_gets_no_list_of_its_other_mistakes(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    # given: three unknown fields, each a validation error, and one alias too many
    query = "{ a: nope b: nope c: nope }"
    error = only_error(await answer(sessionmaker, query, max_aliases=2))
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "aliases": 3, "maxAliases": 2}
    # and under the limits the same document gets its validation errors
    result = await answer(sessionmaker, query, max_aliases=3)
    assert [e["extensions"]["code"] for e in result["errors"]] == ["GRAPHQL_VALIDATION_FAILED"] * 3


async def test_every_limit_exceeded_is_reported(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    query = "{ a: enterprises(first: 50) { nodes { region { name } } } }"
    result = await answer(sessionmaker, query, max_aliases=0, max_depth=2, max_cost=100)
    assert result["data"] is None
    assert [e["extensions"] for e in result["errors"]] == [
        {"code": "QUERY_TOO_COMPLEX", "depth": 4, "maxDepth": 2},
        {"code": "QUERY_TOO_COMPLEX", "aliases": 1, "maxAliases": 0},
        {"code": "QUERY_TOO_COMPLEX", "cost": 1 + 50 * (1 + 1 + 1), "maxCost": 100},
    ]


# Tier differences, with the default limits: depth 10 public, 12 partner, 15 internal.
def nested(depth: int) -> str:
    """A valid query exactly ``depth`` fields deep, each list asking for one item."""
    # enterprises > nodes > (licences > nodes > enterprise) * k > name
    assert depth >= 3 and depth % 3 == 0
    inner = "name"
    for _ in range((depth - 3) // 3):
        inner = f"licences(first: 1) {{ nodes {{ enterprise {{ {inner} }} }} }}"
    return f"{{ enterprises(first: 1) {{ nodes {{ {inner} }} }} }}"


@pytest.mark.parametrize(
    ("token", "allowed", "refused"),
    [(None, 9, 12), ("partner-a", 12, 15), ("internal", 15, 18)],
)
async def test_each_tier_has_its_own_depth(
    sessionmaker: async_sessionmaker[HubSession],
    token: str | None,
    allowed: int,
    refused: int,
) -> None:
    async with hub_client(Settings(), sessionmaker) as client:
        ok = (await graphql(client, nested(allowed), token=token)).json()
        too_deep = (await graphql(client, nested(refused), token=token)).json()
    assert ok == {"data": {"enterprises": {"nodes": []}}}
    assert [e["extensions"]["code"] for e in too_deep["errors"]] == ["QUERY_TOO_COMPLEX"]
    assert too_deep["errors"][0]["extensions"]["depth"] == refused


# 1 + 100 × (1 + (1 + 100 × (1 + (1 + 1 + (1 + 10 × 1))))) = 140,201: over the public 50,000,
# under the partner 200,000.
TWO_FULL_PAGES = (
    "{ enterprises(first: 100) { nodes { licences(first: 100) { nodes { number status "
    "history { status } } } } } }"
)


@pytest.mark.parametrize(("token", "refused"), [(None, True), ("partner-a", False)])
async def test_each_tier_has_its_own_cost(
    sessionmaker: async_sessionmaker[HubSession], token: str | None, refused: bool
) -> None:
    async with hub_client(Settings(), sessionmaker) as client:
        result = (await graphql(client, TWO_FULL_PAGES, token=token)).json()
    if refused:
        assert only_error(result)["extensions"] == {
            "code": "QUERY_TOO_COMPLEX",
            "cost": 140_201,
            "maxCost": 50_000,
        }
    else:
        assert result == {"data": {"enterprises": {"nodes": []}}}


async def test_the_limits_come_from_the_settings_of_each_tier(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    settings = Settings(limits=limits(public={"max_cost": 1}, partner={"max_cost": 21}))
    async with hub_client(settings, sessionmaker) as client:
        public = (await graphql(client, COST_21)).json()
        partner = (await graphql(client, COST_21, token="partner-a")).json()
    assert only_error(public)["extensions"]["maxCost"] == 1
    assert partner == {"data": {"enterprises": {"nodes": []}}}


async def test_limits_apply_to_get_queries_too(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    settings = Settings(limits=limits(public={"max_cost": 20}))
    async with hub_client(settings, sessionmaker) as client:
        response = await client.get("/graphql", params={"query": COST_21})
    assert response.status_code == 200
    assert only_error(response.json())["extensions"]["cost"] == 21


async def test_the_default_client_fixture_has_the_default_limits(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": TWO_FULL_PAGES})
    assert only_error(response.json())["extensions"]["maxCost"] == 50_000


async def test_graphiql_can_introspect_the_public_schema_in_development(
    client: httpx.AsyncClient,
) -> None:
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    response = await client.post("/graphql", json={"query": query})
    assert "errors" not in response.json()
    assert response.json()["data"]["__schema"]["queryType"] == {"name": "Query", "kind": "OBJECT"}
