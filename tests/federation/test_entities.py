"""Entity references: what a router sends to ``_entities``, answered in order and in batches.

On PostgreSQL a subgraph compiles ``_entities`` into one statement (``schema.compiled``): the
tests of the resolvers' statement counts turn it off, and ``test_compiled_entities_...``
holds the compiled answers to the resolvers'."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.db import HubSession, recorded_statements
from hub.enterprise.models import CreditGrade
from hub.enterprise.models import Enterprise as EnterpriseRow
from hub.kit.time import today
from hub.quality.models import CheckResult
from tests.federation.conftest import SubgraphClient
from tests.fixtures.blacklist import make_entry
from tests.fixtures.common import PUBLISHED
from tests.fixtures.credit import make_evaluation
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.graphql import data
from tests.fixtures.licence import make_licence
from tests.fixtures.quality import make_product, make_spot_check
from tests.fixtures.recall import make_recall

ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) { __typename %s } }"""


def global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


async def _hundred_enterprises(session: HubSession) -> list[EnterpriseRow]:
    firms = []
    for _ in range(100):
        firm = await make_enterprise(session, region_code="420100", credit_grade=CreditGrade.B)
        await make_evaluation(session, firm, CreditGrade.B, PUBLISHED)
        await make_entry(session, firm, listed_on=today(), publicity_ends_on=today())
        await make_licence(session, firm)
        product = await make_product(session, firm)
        await make_spot_check(
            session, product, CheckResult.FAIL, failed=[("铅", "GB 2762", "≤0.5", "0.9")]
        )
        await make_recall(session, firm, product)
        firms.append(firm)
    return firms


def _selects(statements: list[str]) -> int:
    return sum(1 for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH")))


# subgraph -> (selection on Enterprise, SELECTs: one per lookup or list of the selection)
BY_SUBGRAPH = {
    # the enterprises by USCC; blacklisted, region; history and its count; entries, removals
    "credit": (
        "... on Enterprise { uscc name creditGrade blacklisted region { name } "
        "creditHistory(first: 3) { totalCount nodes { grade } } "
        "blacklistEntries { reason removedAt } }",
        7,
    ),
    # the enterprises; their products, spot checks, failed items and the checks' products
    "quality": (
        "... on Enterprise { uscc products(first: 5) { nodes { name } } "
        "spotChecks(first: 5) { nodes { result failedItems { item } product { gtin } } } }",
        5,
    ),
    # the enterprises; their licences, the count and the licences' histories
    "licensing": (
        "... on Enterprise { uscc licences(first: 5) { totalCount "
        "nodes { number history { status } } } }",
        4,
    ),
    # the enterprises; their recalls and the recalled products
    "recalls": (
        "... on Enterprise { uscc recalls(first: 5) { nodes { title product { id } } } }",
        3,
    ),
}


@pytest.mark.parametrize("subgraph", sorted(BY_SUBGRAPH))
async def test_entities_of_100_enterprises_cost_what_10_cost(
    subgraph: str,
    session: HubSession,
    subgraph_client: SubgraphClient,
    connection: AsyncConnection,
) -> None:
    # given
    firms = await _hundred_enterprises(session)
    selection, expected = BY_SUBGRAPH[subgraph]
    counts = {}
    async with subgraph_client(subgraph, compiled=False) as client:
        for size in (10, 100):
            representations = [
                {"__typename": "Enterprise", "uscc": firm.uscc} for firm in firms[:size]
            ]
            # when
            with recorded_statements(connection.sync_connection) as statements:  # type: ignore[arg-type]
                answer = await data(client, ENTITIES % selection, {"r": representations})
            # then
            assert [e["uscc"] for e in answer["_entities"]] == [f.uscc for f in firms[:size]]
            counts[size] = _selects(statements)
    assert counts == {10: expected, 100: expected}


async def test_entities_by_global_id_are_batched_too(
    session: HubSession, subgraph_client: SubgraphClient, connection: AsyncConnection
) -> None:
    # given
    firms = await _hundred_enterprises(session)
    products = [await make_product(session, firm, name=f"产品{i}") for i, firm in enumerate(firms)]
    representations = [
        {"__typename": "Product", "id": global_id("Product", product.id)} for product in products
    ]
    query = ENTITIES % "... on Product { id name enterprise { uscc } spotChecks { totalCount } }"
    async with subgraph_client("quality", compiled=False) as client:
        # when
        with recorded_statements(connection.sync_connection) as statements:  # type: ignore[arg-type]
            answer = await data(client, query, {"r": representations})
    # then: the products; their enterprises; the spot checks and their count
    assert [e["name"] for e in answer["_entities"]] == [f"产品{i}" for i in range(100)]
    assert answer["_entities"][0]["enterprise"] == {"uscc": firms[0].uscc}
    assert _selects(statements) == 4


async def test_a_reference_to_nothing_visible_is_null(
    dialect: str, session: HubSession, subgraph_client: SubgraphClient
) -> None:
    # given
    shown = await make_enterprise(session, name="公开企业")
    draft = await make_enterprise(session, name="未公开企业", published=False)
    product = await make_product(session, shown)
    representations: list[dict[str, Any]] = [
        {"__typename": "Enterprise", "uscc": shown.uscc},
        {"__typename": "Enterprise", "uscc": draft.uscc},
        {"__typename": "Enterprise", "uscc": "91110000000000000X"},
        {"__typename": "Product", "id": global_id("Product", product.id)},
        # an existing object, but not of the type the router names
        {"__typename": "Product", "id": global_id("Enterprise", shown.id)},
        {"__typename": "Product", "id": global_id("Product", 999_999_999)},
    ]
    query = ENTITIES % "... on Enterprise { uscc products { totalCount } } ... on Product { name }"
    answers = {}
    for compiled in (True, False):
        async with subgraph_client("quality", compiled=compiled) as client:
            # when
            response = await client.post(
                "/graphql", json={"query": query, "variables": {"r": representations}}
            )
            answers[response.headers["x-hub-plan"]] = response.json()["data"]
    # then: the same answer both ways, on SQLite as on PostgreSQL
    assert set(answers) == {"compiled", "resolvers"}
    assert answers["compiled"] == answers["resolvers"]
    answer = answers["compiled"]
    assert answer["_entities"] == [
        {"__typename": "Enterprise", "uscc": shown.uscc, "products": {"totalCount": 1}},
        None,
        None,
        {"__typename": "Product", "name": product.name},
        None,
        None,
    ]


@pytest.mark.parametrize("subgraph", sorted(BY_SUBGRAPH))
async def test_compiled_entities_answer_what_the_resolvers_answer_in_one_statement(
    dialect: str,
    subgraph: str,
    session: HubSession,
    subgraph_client: SubgraphClient,
) -> None:
    # given
    firms = await _hundred_enterprises(session)
    draft = await make_enterprise(session, published=False)
    selection, _ = BY_SUBGRAPH[subgraph]
    representations = [
        {"__typename": "Enterprise", "uscc": uscc}
        for uscc in [*(f.uscc for f in firms[:30]), draft.uscc, "91110000000000000X"]
    ]
    answers = {}
    for compiled in (True, False):
        async with subgraph_client(subgraph, compiled=compiled) as client:
            # when
            response = await client.post(
                "/graphql",
                json={"query": ENTITIES % selection, "variables": {"r": representations}},
            )
            answers[response.headers["x-hub-plan"]] = response.json()
    # then
    assert set(answers) == {"compiled", "resolvers"}
    assert answers["compiled"] == answers["resolvers"]
    entities = answers["compiled"]["data"]["_entities"]
    assert [e and e["uscc"] for e in entities] == [*(f.uscc for f in firms[:30]), None, None]
