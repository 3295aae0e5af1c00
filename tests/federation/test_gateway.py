"""End to end: each subgraph in a process of its own, two routers in front of them.

The subgraphs run ``hub serve --subgraph NAME`` on one SQLite file (several processes on one
database is what the test needs to show; the dialect does not matter to federation, and the
entity batching is tested on both dialects in test_entities.py), share their rate budgets
through Redis and trust the routers on 127.0.0.1. The routers, @apollo/gateway (gateway.js)
and Hive Gateway (hive.config.js), run the supergraph that @apollo/composition makes of the
SDL the subgraphs publish, and hold documents to the public tier's limits. Every document is
sent to a router and to the single-process hub over the same data: the answers must be equal,
value for value, every list in the same order, refusals included.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from sqlalchemy import update

from hub.app import create_app
from hub.auth.keys import load_or_create
from hub.auth.scopes import COMPLAINTS_READ, CREDIT_READ, PERSONAL_READ
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker
from hub.enterprise.models import Enterprise
from hub.limits import TierLimits
from hub.migrate import upgrade
from schema.federation import Subgraph
from tests.federation.graph import Keys, seed
from tests.federation.peers import (
    HERE,
    compose,
    free_ports,
    hub_command,
    node,
    peers,
    start,
    wait_until_ready,
)
from tests.fixtures.limits import random_address, redis_url
from tests.fixtures.oauth import hub_claims, oauth_client, sign

STARTUP_SECONDS = 240
"""For the eight subgraph processes to answer /healthz, all started at once: each takes about
4 s of CPU to import and build its schemas, so on 2 cores shared with other work (a benchmark,
another test run) 90 s was not always enough. Not a speed assertion: a server that never starts
still fails here, with its log."""

PUBLIC_BUDGET = Settings().limits.public.model_copy(
    update={"rate_limit": 100_000, "rate_window": 10_000_000}
)


@dataclass(frozen=True)
class Data:
    url: str
    keys: Keys
    directory: Path
    signing_key: Path
    partner_token: str


@dataclass(frozen=True)
class Federation:
    gateway: str
    subgraphs: dict[Subgraph, str]
    supergraph: Path
    limits: Path


def router_limits(directory: Path, name: str, limits: TierLimits) -> Path:
    """The limits of one tier as the test routers read them (limits.js), in a file."""
    path = directory / f"{name}-limits.json"
    numbers = {
        "maxDepth": limits.max_depth,
        "maxAliases": limits.max_aliases,
        "maxDirectives": limits.max_directives,
        "maxTokens": limits.max_tokens,
        "maxCost": limits.max_cost,
    }
    path.write_text(json.dumps(numbers), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
async def data(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Data]:
    directory = tmp_path_factory.mktemp("federation")
    url = f"sqlite+aiosqlite:///{directory / 'hub.db'}"
    signing_key = directory / "signing-key.pem"
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with create_sessionmaker(engine)() as session:
            keys = await seed(session)
            # a ministry's client, and personal data for it to read masked
            partner = await oauth_client(
                session, scopes=(CREDIT_READ, COMPLAINTS_READ, PERSONAL_READ)
            )
            await session.execute(
                update(Enterprise)
                .where(Enterprise.uscc == keys.milk)
                .values(
                    legal_representative_id_number="110105198507211234",
                    legal_representative_phone="13912345678",
                )
            )
            await session.commit()
    finally:
        await engine.dispose()
    # every process of the test signs and verifies with the same key, as a deployment would
    key = load_or_create(signing_key)
    now = int(time.time())
    claims = hub_claims(
        Settings(signing_key_path=signing_key),
        partner.client_id,
        scope=f"{CREDIT_READ} {COMPLAINTS_READ} {PERSONAL_READ}",
        now=now,
        exp=now + 3600,  # the module outlives a 5-minute token on a busy machine
    )
    yield Data(url, keys, directory, signing_key, sign(key.private, claims))


@pytest.fixture(scope="module")
async def hub(data: Data) -> AsyncIterator[httpx.AsyncClient]:
    """The single-process hub over the same database file."""
    engine = create_engine(data.url)
    app = create_app(
        Settings(signing_key_path=data.signing_key), sessionmaker=create_sessionmaker(engine)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client
    await engine.dispose()


@pytest.fixture(scope="module")
def federation(data: Data) -> Iterator[Federation]:
    ports = free_ports(len(Subgraph) + 1)
    urls = {s: f"http://127.0.0.1:{port}/graphql" for s, port in zip(Subgraph, ports, strict=False)}
    env = {
        "HUB_DATABASE_URL": data.url,
        "HUB_SIGNING_KEY_PATH": str(data.signing_key),
        "HUB_REDIS_URL": redis_url(),
        "HUB_TRUSTED_ROUTERS": '["127.0.0.1"]',
        # a public budget that refills one request in 100 s, so that what a test reads of it
        # is what its own requests spent, on a machine however slow; large enough for the
        # module's requests from 127.0.0.1, run after run against one Redis
        "HUB_LIMITS__PUBLIC__RATE_LIMIT": str(PUBLIC_BUDGET.rate_limit),
        "HUB_LIMITS__PUBLIC__RATE_WINDOW": str(PUBLIC_BUDGET.rate_window),
    }
    with peers() as started:
        for subgraph, url in urls.items():
            port = url.split(":")[2].split("/")[0]
            command = hub_command("serve", "--subgraph", subgraph.value, "--port", port)
            started.append(start(f"subgraph-{subgraph}", command, data.directory, env))
        deadline = time.monotonic() + STARTUP_SECONDS
        for peer, url in zip(started, urls.values(), strict=True):
            wait_until_ready(peer, url.replace("/graphql", "/healthz"), deadline=deadline)

        # as a router's tooling does: the SDL each running subgraph publishes, composed
        published = [
            {"name": s.value, "url": url, "sdl": _service_sdl(url)} for s, url in urls.items()
        ]
        composition = compose(published, strip_authorization=True)
        assert composition.errors == []
        assert composition.supergraph_sdl is not None
        supergraph = data.directory / "supergraph.graphql"
        supergraph.write_text(composition.supergraph_sdl, encoding="utf-8")

        limits = router_limits(data.directory, "public", Settings().limits.public)
        gateway_url = f"http://127.0.0.1:{ports[-1]}/"
        gateway = start(
            "gateway",
            [node(), str(HERE / "gateway.js"), str(supergraph), str(ports[-1]), str(limits)],
            data.directory,
        )
        started.append(gateway)
        wait_until_ready(gateway, gateway_url, deadline=deadline, graphql=True)
        yield Federation(gateway_url, urls, supergraph, limits)


@pytest.fixture(scope="module")
def hive(federation: Federation, data: Data) -> Iterator[str]:
    """Hive Gateway on the same supergraph, with the same limits."""
    [port] = free_ports(1)
    command = [
        node(),
        str(HERE / "node_modules" / "@graphql-hive" / "gateway" / "dist" / "bin.cjs"),
        "supergraph",
        *("--config-path", str(HERE / "hive.config.js")),
        *("--host", "127.0.0.1", "--port", str(port)),
    ]
    env = {"ROUTER_SUPERGRAPH": str(federation.supergraph), "ROUTER_LIMITS": str(federation.limits)}
    with peers() as started:
        hive = start("hive-gateway", command, data.directory, env)
        started.append(hive)
        url = f"http://127.0.0.1:{port}/graphql"
        wait_until_ready(hive, url, deadline=time.monotonic() + STARTUP_SECONDS, graphql=True)
        yield url


ROUTERS = ["@apollo/gateway", "Hive Gateway"]


@pytest.fixture(params=ROUTERS)
def router(request: pytest.FixtureRequest, federation: Federation) -> str:
    """The URL of each router in turn."""
    if request.param == "Hive Gateway":
        url: str = request.getfixturevalue("hive")
        return url
    return federation.gateway


@pytest.fixture(scope="module")
def partner_gateway(data: Data, federation: Federation) -> Iterator[str]:
    """A partner ministry's router: the partner tier's subgraphs, composed and served."""
    published = [
        {"name": s.value, "url": url, "sdl": _service_sdl(url, data.partner_token)}
        for s, url in federation.subgraphs.items()
    ]
    composition = compose(published, strip_authorization=True)
    assert composition.errors == []
    assert composition.supergraph_sdl is not None
    supergraph = data.directory / "partner-supergraph.graphql"
    supergraph.write_text(composition.supergraph_sdl, encoding="utf-8")
    [port] = free_ports(1)
    limits = router_limits(data.directory, "partner", Settings().limits.partner)
    with peers() as started:
        gateway = start(
            "partner-gateway",
            [node(), str(HERE / "gateway.js"), str(supergraph), str(port), str(limits)],
            data.directory,
        )
        started.append(gateway)
        url = f"http://127.0.0.1:{port}/"
        wait_until_ready(gateway, url, deadline=time.monotonic() + STARTUP_SECONDS, graphql=True)
        yield url


def _service_sdl(url: str, token: str | None = None) -> str:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(url, json={"query": "{ _service { sdl } }"}, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    sdl: str = response.json()["data"]["_service"]["sdl"]
    return sdl


async def _both(
    router: str | Federation, hub: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    url = router.gateway if isinstance(router, Federation) else router
    body = {"query": query, "variables": variables}
    async with httpx.AsyncClient(timeout=30) as client:
        through_gateway = await client.post(url, json=body)
    single = await hub.post("/graphql", json=body)
    assert (through_gateway.status_code, single.status_code) == (200, 200), through_gateway.text
    gateway_answer: dict[str, Any] = through_gateway.json()
    hub_answer: dict[str, Any] = single.json()
    return gateway_answer, hub_answer


CREDIT_FILE = """query($u: String!) { enterprise(uscc: $u) {
  id uscc name status creditGrade legalRepresentative establishedOn publishedAt
  region { code name } industry { code name }
  creditHistory(first: 5) { totalCount nodes { id grade score evaluatedAt authority basis } }
  blacklisted blacklistEntries { listType reason listedAt publicityEndsOn removedAt removalReason }
  licences(first: 10) { totalCount pageInfo { hasNextPage endCursor }
    nodes { id number product status validFrom validUntil history { status at reason } } }
  spotChecks(first: 10) { totalCount nodes { id level sampledAt result inspectingBody
    region { name } failedItems { item standard required measured }
    product { id name brand gtin recalls { totalCount nodes { title } } } } }
  recalls(first: 10) { totalCount nodes { id noticeNumber title kind status affectedUnits
    startedOn product { name brand enterprise { name creditGrade } } enterprise { uscc } } }
  products(first: 10) { totalCount edges { cursor node { id name gtin category
    spotChecks(result: FAIL) { totalCount } recalls { totalCount } } } } } }"""

DOCUMENTS: dict[str, tuple[str, Any]] = {
    "an enterprise's whole credit file": (CREDIT_FILE, lambda k: {"u": k.milk}),
    "an enterprise that is not published": (CREDIT_FILE, lambda k: {"u": k.draft}),
    "an enterprise list with what other subgraphs know of each": (
        """{ enterprises(first: 10, order: NAME) { totalCount pageInfo { hasNextPage }
          nodes { name creditGrade blacklisted licences(status: VALID) { totalCount }
            spotChecks(result: FAIL) { totalCount } recalls { nodes { title } }
            products { nodes { name } } } } }""",
        lambda k: {},
    ),
    "consumer warnings with their recalls, products and producers": (
        """{ consumerWarnings(first: 5) { totalCount nodes { number title severity issuedOn
          relatedRecalls { title enterprise { name blacklisted licences { totalCount } }
            product { name spotChecks(first: 3) { nodes { result failedItems { item } } } } }
          relatedProducts { name gtin enterprise { uscc creditGrade }
            recalls { totalCount } } } } }""",
        lambda k: {},
    ),
    "licences with their holders' recalls": (
        """{ licences(first: 20) { totalCount nodes { number status
          enterprise { name recalls { nodes { title product { name } } } } } } }""",
        lambda k: {},
    ),
    "a licence by its number": (
        """query($n: String!) { licence(number: $n) { number status history { status reason }
          enterprise { name creditGrade products { totalCount } } } }""",
        lambda k: {"n": k.licence},
    ),
    "failed spot checks with their enterprises": (
        """{ spotChecks(filter: { result: FAIL }) { totalCount nodes { reportNumber
          failedItems { item } product { name recalls { nodes { noticeNumber } } }
          enterprise { name creditGrade blacklistEntries { reason } } } } }""",
        lambda k: {},
    ),
    "a product by its barcode": (
        """query($g: String!) { product(gtin: $g) { name brand enterprise { name }
          recalls { nodes { title enterprise { name licences { nodes { number } } } } }
          spotChecks { nodes { result region { name } } } } }""",
        lambda k: {"g": k.formula},
    ),
    "recalls since April with producers and products": (
        """{ recalls(filter: { startedAfter: "2025-04-01" }) { totalCount nodes { title
          enterprise { name region { name } } product { name category } } } }""",
        lambda k: {},
    ),
    "the blacklist with each enterprise's spot checks": (
        """{ blacklist { totalCount nodes { reason listedAt
          enterprise { name spotChecks { totalCount nodes { result } } } } } }""",
        lambda k: {},
    ),
    "complaint statistics": (
        """{ complaintStatistics(groupBy: [REGION, CATEGORY]) { region { code name }
          category count suppressed } }""",
        lambda k: {},
    ),
}


@pytest.mark.parametrize("name", list(DOCUMENTS))
async def test_the_gateway_answers_what_the_hub_answers(
    name: str, data: Data, router: str, hub: httpx.AsyncClient
) -> None:
    query, variables = DOCUMENTS[name]
    # when
    through_gateway, single = await _both(router, hub, query, variables(data.keys))
    # then
    assert "errors" not in single, single
    assert through_gateway == single


async def test_global_ids_resolve_through_the_gateway(
    data: Data, federation: Federation, hub: httpx.AsyncClient
) -> None:
    # given the IDs of one object of every type, as the hub hands them out
    found = (
        await hub.post("/graphql", json={"query": CREDIT_FILE, "variables": {"u": data.keys.milk}})
    ).json()["data"]["enterprise"]
    warning = (
        await hub.post("/graphql", json={"query": "{ consumerWarnings { nodes { id } } }"})
    ).json()["data"]["consumerWarnings"]["nodes"][0]["id"]
    ids = [
        found["id"],
        found["creditHistory"]["nodes"][0]["id"],
        found["licences"]["nodes"][0]["id"],
        found["spotChecks"]["nodes"][0]["id"],
        found["spotChecks"]["nodes"][0]["product"]["id"],
        found["recalls"]["nodes"][0]["id"],
        warning,
        "RW50ZXJwcmlzZTo5OTk5OTk",  # Enterprise:999999, no such enterprise
    ]
    query = """query($ids: [ID!]!, $one: ID!) {
      node(id: $one) { id __typename ... on Recall { title enterprise { name } product { name } } }
      nodes(ids: $ids) { id __typename
        ... on Enterprise { name licences { totalCount } }
        ... on CreditEvaluation { grade }
        ... on Licence { number enterprise { name } }
        ... on SpotCheck { result product { name } }
        ... on Product { name recalls { totalCount } }
        ... on Recall { title }
        ... on ConsumerWarning { title relatedProducts { name } } } }"""
    # when
    through_gateway, single = await _both(
        federation, hub, query, {"ids": ids, "one": found["recalls"]["nodes"][0]["id"]}
    )
    # then
    assert "errors" not in single, single
    assert [n and n["__typename"] for n in single["data"]["nodes"]] == [
        "Enterprise",
        "CreditEvaluation",
        "Licence",
        "SpotCheck",
        "Product",
        "Recall",
        "ConsumerWarning",
        None,
    ]
    assert through_gateway == single


async def test_the_gateway_serves_the_hubs_schema(
    federation: Federation, hub: httpx.AsyncClient
) -> None:
    introspection = {"query": graphql.get_introspection_query(descriptions=True)}
    async with httpx.AsyncClient(timeout=30) as client:
        through_gateway = (await client.post(federation.gateway, json=introspection)).json()
    single = (await hub.post("/graphql", json=introspection)).json()

    def printed(answer: dict[str, Any]) -> str:
        schema = graphql.build_client_schema(answer["data"])
        types = graphql.lexicographic_sort_schema(schema).type_map.values()
        return "\n\n".join(graphql.print_type(t) for t in types if not t.name.startswith("__"))

    assert printed(through_gateway) == printed(single)


async def test_the_subgraphs_publish_the_committed_sdl(federation: Federation) -> None:
    for subgraph, url in federation.subgraphs.items():
        snapshot = HERE.parents[1] / "schema" / "subgraphs" / "public" / f"{subgraph}.graphql"
        assert _service_sdl(url) + "\n" == snapshot.read_text(encoding="utf-8"), subgraph


async def test_the_gateway_forwards_the_callers_credentials(
    federation: Federation, hub: httpx.AsyncClient
) -> None:
    # given a token that proves nothing: the hub refuses it rather than serve the public
    body = {"query": "{ enterprises { totalCount } }"}
    headers = {"authorization": "Bearer not-a-token"}
    refused = await hub.post("/graphql", json=body, headers=headers)
    assert refused.status_code == 401
    # when
    async with httpx.AsyncClient(timeout=30) as client:
        through_gateway = await client.post(federation.gateway, json=body, headers=headers)
        without_token = await client.post(federation.gateway, json=body)
    # then the subgraph saw the token and refused it, with the hub's own answer
    answer = through_gateway.json()
    assert answer["data"] is None
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["response"]["status"] == 401
    assert error["extensions"]["response"]["body"] == refused.json()
    assert without_token.json() == {"data": {"enterprises": {"totalCount": 3}}}  # one is a draft


async def test_errors_keep_their_code_through_the_gateway(
    federation: Federation, hub: httpx.AsyncClient
) -> None:
    # given a USCC whose check character is wrong, beside a field that works
    query = '{ enterprise(uscc: "91110000600037341X") { name } licences { totalCount } }'
    # when
    through_gateway, single = await _both(federation, hub, query, {})
    # then the same data and the same error, but for what a router changes: it names the
    # subgraph that raised it and drops the locations, which point into that subgraph's query
    assert single["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    for error in through_gateway["errors"]:
        assert error["extensions"].pop("serviceName") == "credit"
    for error in single["errors"]:
        assert error.pop("locations") == [{"line": 1, "column": 3}]
    assert through_gateway == single


PARTNER_FILE = """query($u: String!) { enterprise(uscc: $u) {
  name creditGrade legalRepresentativeIdNumber legalRepresentativePhone
  licences { totalCount nodes { number status } }
  complaints(first: 20) { totalCount nodes { number status productCategory product { name } } }
  products { nodes { name complaints(first: 3) { totalCount } recalls { totalCount } } } } }"""


async def test_a_partner_token_through_the_gateway_gets_what_the_hub_gives(
    data: Data, partner_gateway: str, hub: httpx.AsyncClient
) -> None:
    body = {"query": PARTNER_FILE, "variables": {"u": data.keys.milk}}
    headers = {"authorization": f"Bearer {data.partner_token}"}
    # when
    async with httpx.AsyncClient(timeout=30) as client:
        through_gateway = await client.post(partner_gateway, json=body, headers=headers)
    single = await hub.post("/graphql", json=body, headers=headers)
    # then the partner's fields, masked personal data included, cross the router unchanged
    assert (through_gateway.status_code, single.status_code) == (200, 200)
    answer = single.json()
    assert "errors" not in answer, answer
    assert answer["data"]["enterprise"]["legalRepresentativeIdNumber"] == "1101**********1234"
    assert answer["data"]["enterprise"]["complaints"]["totalCount"] == 12
    assert through_gateway.json() == answer


# Several processes, one behaviour: rate budgets and limits behind a router.


async def test_a_routed_operation_spends_the_callers_budget_once(
    data: Data, federation: Federation, router: str
) -> None:
    # given a caller the router forwards (the test's client stands for a trusted proxy)
    caller = random_address()
    forwarded = {"x-forwarded-for": caller}
    body = {"query": CREDIT_FILE, "variables": {"u": data.keys.milk}}
    async with httpx.AsyncClient(timeout=30) as client:
        # when its one document needs the credit, licensing, quality and recalls subgraphs
        answer = (await client.post(router, json=body, headers=forwarded)).json()
        assert "errors" not in answer, answer
        # then it paid for one request, in every subgraph process: a second one, sent to a
        # subgraph the document used and another, finds the budget one request short
        for subgraph in (Subgraph.LICENSING, Subgraph.WARNINGS):
            direct = await client.post(
                federation.subgraphs[subgraph], json={"query": "{ __typename }"}, headers=forwarded
            )
            budget = PUBLIC_BUDGET.rate_limit
            assert direct.headers["x-ratelimit-limit"] == str(budget)
            assert direct.headers["x-ratelimit-remaining"] == str(
                budget - 2 if subgraph is Subgraph.LICENSING else budget - 3
            )


DEEP = """{ enterprises { nodes { licences { nodes { enterprise { recalls { nodes {
  product { enterprise { region { name } } } } } } } } } } }"""

# 1 + 100 × (1 + 4 + 1 + 100 × (1 + 8)): an enterprise page with a page of licences each,
# which the licensing subgraph answers in one entity request that counts 1 + 100 × 9 alone.
COSTLY = """{ enterprises(first: 100) { nodes { uscc name status creditGrade
  licences(first: 100) { nodes { id number product status validFrom validUntil publishedAt
    issuedBy } } } } }"""


@pytest.mark.parametrize(
    ("document", "refusal"),
    [
        (DEEP, {"code": "QUERY_TOO_COMPLEX", "depth": 11, "maxDepth": 10}),
        (COSTLY, {"code": "QUERY_TOO_COMPLEX", "cost": 90601, "maxCost": 50000}),
    ],
    ids=["depth 11", "cost 90,601"],
)
async def test_the_routers_refuse_what_the_hub_refuses(
    document: str, refusal: dict[str, Any], router: str, hub: httpx.AsyncClient
) -> None:
    # when
    through_router, single = await _both(router, hub, document, {})
    # then each refuses the whole document, in the same words, before anything runs
    assert [error["extensions"] for error in single["errors"]] == [refusal]
    assert single["data"] is None
    assert through_router == single


def _aliases(keys: Keys) -> str:
    """20 aliases, the public limit, and a root field without one, all of the credit subgraph:
    Hive Gateway merges them into one request to it, with a `_vN_` alias each (21)."""
    aliased = " ".join(f'e{i}: enterprise(uscc: "{keys.milk}") {{ name }}' for i in range(20))
    return "{ " + aliased + " enterprises(first: 1) { totalCount } }"


def _tokens(keys: Keys) -> str:
    """430 tokens (20 aliases): Hive Gateway sends the credit subgraph 2,016 tokens (21
    aliases), every root field with its own copy of the fragments, and a variable for each of
    its arguments."""
    roots = " ".join(
        f"e{i}: enterprises(first: {i}, order: NAME) {{ nodes {{ ...E }} }}" for i in range(1, 21)
    )
    return (
        "{ " + roots + " blacklist(first: 2) { nodes { reason enterprise { ...E } } } }\n"
        "fragment E on Enterprise { id uscc name legalRepresentative status creditGrade\n"
        "  blacklisted establishedOn publishedAt region { code name } industry { code name }\n"
        "  ...R }\n"
        "fragment R on Enterprise { creditHistory(first: 2) { totalCount nodes { id grade score\n"
        "  evaluatedAt authority basis } } }"
    )


@pytest.mark.parametrize("document", [_aliases, _tokens], ids=["20 aliases", "430 tokens"])
async def test_the_routers_answer_what_the_hub_answers(
    document: Any, data: Data, router: str, hub: httpx.AsyncClient
) -> None:
    # when
    through_router, single = await _both(router, hub, document(data.keys), {})
    # then
    assert "errors" not in single, single
    assert through_router == single


# What each router answers to a document one token over the public limit; Hive Gateway's own
# maxTokens (graphql-armor) speaks for itself.
TOO_MANY_TOKENS = {
    "@apollo/gateway": {"code": "QUERY_TOO_COMPLEX", "maxTokens": 2000},
    "Hive Gateway": {"code": "GRAPHQL_PARSE_FAILED"},
}


@pytest.mark.parametrize("tokens", [2000, 2001])
async def test_the_routers_stop_reading_where_the_hub_does(
    tokens: int, router: str, hub: httpx.AsyncClient, request: pytest.FixtureRequest
) -> None:
    # given a document of 2,000 tokens (an argument that does not exist) and one of 2,001
    body = {"query": "{ __typename(a: [" + " 1" * (tokens - 9) + " ]) }"}
    # when
    single = (await hub.post("/graphql", json=body)).json()
    async with httpx.AsyncClient(timeout=30) as client:
        through_router = (await client.post(router, json=body)).json()
    # then all read the first to its end, and stop reading the second at its last token
    codes = [[e["extensions"]["code"] for e in a["errors"]] for a in (single, through_router)]
    if tokens == 2000:
        assert codes == [["GRAPHQL_VALIDATION_FAILED"]] * 2
    else:
        assert [e["extensions"] for e in single["errors"]] == [TOO_MANY_TOKENS["@apollo/gateway"]]
        name = request.node.callspec.params["router"]
        assert [e["extensions"] for e in through_router["errors"]] == [TOO_MANY_TOKENS[name]]
