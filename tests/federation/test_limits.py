"""Limits behind a router: the subgraphs publish the cost rule, and hold a router to its limits.

A router sees the whole client document, a subgraph only its part: the router must enforce
the caller's limits (the routers of the tests do, test_gateway.py), with the cost the
subgraphs publish as @cost and @listSize. A subgraph holds what a trusted router sends it to
the router's limits, which let through what routers make of a valid document (Hive Gateway's
`_vN_` aliases, inlined fragments), and holds everyone else to their tier's.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import graphql
import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.app import create_app
from hub.auth.principal import Tier
from hub.config import Settings
from hub.db import HubSession
from schema.build import build_schema
from schema.federation import Subgraph
from schema.federation.schema import build_subgraph
from schema.limits import measure, operation_of
from tests.federation.peers import HERE, node
from tests.federation.test_composition import composed
from tests.fixtures.enterprise import make_enterprise

ROUTER = "10.20.0.7"
ROUTERS = '["10.20.0.0/16"]'
CLIENT = "198.51.100.20"

From = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def credit_from(sessionmaker: async_sessionmaker[HubSession]) -> From:
    """``async with credit_from(address)``: httpx against the credit subgraph, from there."""
    app = create_app(
        Settings(trusted_routers=json.loads(ROUTERS)), sessionmaker=sessionmaker, subgraph="credit"
    )

    @asynccontextmanager
    async def open_client(address: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            yield client

    return open_client


# What Hive Gateway sends the credit subgraph for a valid public document of 20 aliased root
# fields and one more without an alias: every root field it merges into one request gets a
# `_vN_` alias, 21 in all, one more than the public limit.
MERGED = (
    "query($u: String!) { "
    + " ".join(f"_v{i}_enterprise: enterprise(uscc: $u) {{ name }}" for i in range(20))
    + " _v20_enterprises: enterprises(first: 1) { totalCount } }"
)


async def test_a_trusted_router_gets_the_routers_limits(
    credit_from: From, session: HubSession
) -> None:
    # given an enterprise, and the credit subgraph asked for it by a router and by a client
    uscc = (await make_enterprise(session, name="路由测试有限公司")).uscc
    body = {"query": MERGED, "variables": {"u": uscc}}
    # when
    async with credit_from(ROUTER) as router, credit_from(CLIENT) as client:
        routed = (await router.post("/graphql", json=body)).json()
        direct = (await client.post("/graphql", json=body)).json()
    # then the router's part of a valid document is answered, the same from a client is not
    assert routed["data"]["_v0_enterprise"] == {"name": "路由测试有限公司"}
    assert routed["data"]["_v20_enterprises"] == {"totalCount": 1}
    assert "errors" not in routed
    assert direct["data"] is None
    assert [e["extensions"] for e in direct["errors"]] == [
        {"code": "QUERY_TOO_COMPLEX", "aliases": 21, "maxAliases": 20}
    ]


async def test_a_router_still_serves_the_callers_tier(credit_from: From) -> None:
    # a public caller through a router: the router's limits, never a partner's fields
    query = "{ enterprises { nodes { legalRepresentativeIdNumber } } }"
    async with credit_from(ROUTER) as router:
        answer = (await router.post("/graphql", json={"query": query})).json()
    assert answer["data"] is None
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert answer["errors"][0]["message"].startswith(
        "Cannot query field 'legalRepresentativeIdNumber' on type 'Enterprise'."
    )


def _directives(subgraph: Subgraph, type_name: str) -> dict[str, list[str]]:
    document = graphql.parse(build_subgraph(subgraph, Tier.PUBLIC).as_str())
    (found,) = (
        d
        for d in document.definitions
        if isinstance(d, graphql.ObjectTypeDefinitionNode) and d.name.value == type_name
    )
    return {
        f.name.value: [graphql.print_ast(d) for d in f.directives or ()] for f in found.fields or ()
    }


PAGE = (
    '@listSize(assumedSize: 20, slicingArguments: ["first"], sizedFields: ["edges", "nodes"], '
    "requireOneSlicingArgument: false)"
)


def test_the_subgraphs_publish_the_cost_rule() -> None:
    # every leaf field costs 1, a connection its `first` items (20 without it), a list 10
    enterprise = _directives(Subgraph.CREDIT, "Enterprise")
    assert enterprise["name"] == ["@cost(weight: 1)"]
    assert enterprise["region"] == []  # an object: routers count it 1 by themselves
    assert enterprise["creditHistory"] == [PAGE]
    assert enterprise["blacklistEntries"] == ["@listSize(assumedSize: 10)"]
    assert _directives(Subgraph.CREDIT, "Query")["enterprises"] == [PAGE]
    connection = _directives(Subgraph.CREDIT, "EnterpriseConnection")
    assert connection == {
        "edges": [],  # the connection's items: they multiply nothing more
        "nodes": [],
        "pageInfo": [],
        "totalCount": ["@cost(weight: 1)"],
    }
    licence = _directives(Subgraph.LICENSING, "Licence")
    assert licence["history"] == ["@listSize(assumedSize: 10)"]
    assert _directives(Subgraph.LICENSING, "Enterprise")["licences"] == [PAGE]


def test_the_supergraph_keeps_the_cost_directives() -> None:
    # @apollo/composition 2.14 composes the Federation 2.9 subgraphs and keeps the directives
    supergraph = composed(Tier.PUBLIC).supergraph_sdl
    assert supergraph is not None
    lines = [line.strip() for line in supergraph.splitlines()]
    assert '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])' in lines
    assert "name: String! @join__field(graph: CREDIT) @cost(weight: 1)" in lines


def _router_measures(documents: list[dict[str, Any]]) -> list[dict[str, int]]:
    """What a router measures (tests/federation/limits.js) on the public supergraph."""
    composition = composed(Tier.PUBLIC)
    payload = {
        "supergraphSdl": composition.supergraph_sdl,
        "apiSchema": composition.api_schema,
        "documents": documents,
    }
    done = subprocess.run(
        [node(), str(HERE / "limits.js")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    measures: list[dict[str, int]] = json.loads(done.stdout)
    return measures


def _hub_measures(documents: list[dict[str, Any]]) -> list[dict[str, int]]:
    schema = build_schema(Tier.PUBLIC)._schema
    measures = []
    for document in documents:
        parsed = graphql.parse(document["query"])
        operation = operation_of(parsed, None)
        assert operation is not None
        m = measure(schema, parsed, operation, document.get("variables"))
        measures.append(
            {"depth": m.depth, "aliases": m.aliases, "directives": m.directives, "cost": m.cost}
        )
    return measures


AGREED = [
    {"query": "{ enterprises(first: 10) { nodes { name } } }"},
    {
        "query": """query($n: Int) { enterprises(first: $n) { nodes { uscc name status
            creditGrade licences(first: 100) { nodes { id number product status validFrom
            validUntil publishedAt issuedBy } } } } }""",
        "variables": {"n": 100},
    },
    {
        "query": """{ blacklist { edges { cursor node { reason enterprise { name
            region { code name } } } } } }"""
    },
    {
        "query": """fragment E on Enterprise { name recalls(first: 5) { nodes { title } } }
            { a: enterprises(first: 7) { nodes { ...E } } b: enterprise(uscc: "x") { ...E }
              c: __typename d: node(id: "x") { ... on Enterprise @skip(if: false) { ...E } } }"""
    },
    {
        "query": """{ enterprises { nodes { licences { nodes { enterprise { recalls { nodes {
            product { enterprise { region { name } } } } } } } } } } }"""
    },
]


def test_a_router_measures_what_the_hub_measures() -> None:
    assert _router_measures(AGREED) == _hub_measures(AGREED)


def test_where_a_router_counts_otherwise() -> None:
    # The directives cannot say two things of the rule, so a router's cost differs there:
    documents = [
        # the hub counts a connection's pageInfo and totalCount once per item, a router once
        {"query": "{ enterprises(first: 10) { totalCount pageInfo { hasNextPage } } }"},
        # the hub counts a plain list 1 and its items' selections 10 times, a router 10 times
        # the item and its selection
        {"query": "{ consumerWarnings(first: 1) { nodes { relatedRecalls { title } } } }"},
    ]
    router, hub = _router_measures(documents), _hub_measures(documents)
    assert [m["cost"] for m in hub] == [1 + 10 * (1 + 2), 1 + 1 * (1 + (1 + 10 * 1))]
    assert [m["cost"] for m in router] == [1 + 1 + 2, 1 + 1 * (1 + 10 * (1 + 1))]
