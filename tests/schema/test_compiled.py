"""The compiled path answers exactly what the resolvers answer, or leaves the request to them.

Every document below runs both ways for every tier, on data that exercises each row rule
(drafts, records published in the future, listings before, in and after their publicity
period, removed listings, an unpublished enterprise behind a listing), and the answers must be
equal. Each document must also really compile: a document that silently fell back to the
resolvers would compare the resolvers with themselves.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from hub.auth.principal import Principal, Tier
from hub.blacklist.models import ListType
from hub.db import HubSession
from hub.enterprise.models import CreditGrade, Enterprise
from hub.kit.time import today, utcnow
from hub.licence.models import LicenceStatus
from hub.limits import Limits
from hub.quality.models import CheckResult
from schema.build import build_schema
from schema.compiled.compiler import FallbackError, Operation
from schema.compiled.endpoint import CompiledReads
from schema.compiled.plan import CompiledQueries
from schema.node import encode_id
from tests.fixtures.blacklist import make_entry, make_removal
from tests.fixtures.codes import uscc
from tests.fixtures.credit import make_evaluation
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.licence import make_licence
from tests.fixtures.principals import INTERNAL, PARTNER, PUBLIC, run_as
from tests.fixtures.quality import make_product, make_spot_check
from tests.fixtures.recall import make_recall
from tests.fixtures.warning import make_warning
from tests.fixtures.written import written

TIERS = {"public": PUBLIC, "partner": PARTNER, "internal": INTERNAL}


@dataclass
class World:
    firm: Enterprise
    licence: str
    gtin: str
    nodes: list[tuple[str, int]]
    other: Enterprise
    draft: Enterprise
    absent: str


async def _world(session: HubSession) -> World:
    day = today()
    firm = await make_enterprise(session, region_code="440300", credit_grade=CreditGrade.B)
    other = await make_enterprise(session, region_code="440100", credit_grade=None)
    draft = await make_enterprise(session, region_code="440300", published=False)
    for n, status in enumerate(
        [LicenceStatus.VALID, LicenceStatus.SUSPENDED, LicenceStatus.VALID, LicenceStatus.EXPIRED]
    ):
        await make_licence(session, firm, status, valid_from=date(2020 + n % 3, 1, 1))
    await make_licence(session, firm, published=False)
    await make_licence(session, firm, published_at=utcnow() + timedelta(hours=2))
    product = await make_product(session, firm)
    hidden = await make_product(session, firm, published=False)
    await make_product(session, firm, gtin=None, published_at=utcnow() + timedelta(hours=2))
    failed = [("蛋白质", "GB 19644-2010", "≥ 34%", "31.2%"), ("菌落总数", "GB 4789.2", "≤ 5", "9")]
    for n in range(4):
        await make_spot_check(
            session,
            product,
            CheckResult.FAIL if n % 2 else CheckResult.PASS,
            failed if n % 2 else None,
            sampled_on=date(2025, 1 + n, 1),
        )
    await make_spot_check(session, product, published=False)
    await make_spot_check(session, hidden, CheckResult.FAIL, failed[:1])
    first_recall = await make_recall(session, firm)
    second_recall = await make_recall(session, firm, product, started_on=date(2024, 2, 2))
    hidden_recall = await make_recall(session, firm, published=False)
    await make_recall(session, other, hidden, started_on=date(2025, 7, 1))
    await make_warning(session, [first_recall, second_recall, hidden_recall], [product, hidden])
    await make_warning(session, [second_recall], issued_on=date(2024, 1, 5))
    await make_warning(session, [first_recall], published=False)
    evaluated = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    await make_evaluation(session, firm, CreditGrade.A, evaluated)
    await make_evaluation(
        session, firm, CreditGrade.B, evaluated + timedelta(days=300, microseconds=120)
    )
    await make_evaluation(
        session, firm, CreditGrade.C, evaluated - timedelta(days=9), published=False
    )
    await make_entry(session, firm, day - timedelta(days=30), day)
    await make_entry(session, firm, day - timedelta(days=800), day - timedelta(days=1))
    await make_entry(session, firm, day + timedelta(days=1), day + timedelta(days=9))
    await make_entry(
        session, firm, day - timedelta(days=3), day + timedelta(days=3), published=False
    )
    repaired = await make_entry(session, other, day - timedelta(days=90), day + timedelta(days=90))
    await make_removal(session, repaired, removed_on=day - timedelta(days=2))
    await make_entry(
        session,
        other,
        day - timedelta(days=10),
        day + timedelta(days=10),
        list_type=ListType.SERIOUS_VIOLATION,
    )
    await make_entry(session, draft, day - timedelta(days=5), day + timedelta(days=5))
    await make_entry(
        session, draft, day - timedelta(days=5), day + timedelta(days=6), published=False
    )
    licence = await make_licence(session, firm, LicenceStatus.REVOKED, product="电线电缆")
    await make_licence(session, other, LicenceStatus.REVOKED, valid_until=today())
    assert product.gtin is not None
    nodes = [
        ("Enterprise", firm.id),
        ("Enterprise", draft.id),
        ("Enterprise", 0),
        ("Licence", licence.id),
        ("Recall", hidden_recall.id),
        ("Recall", first_recall.id),
        ("BlacklistEntry", repaired.id),
        ("Product", hidden.id),
    ]
    return World(firm, licence.number, product.gtin, nodes, other, draft, absent=uscc("440300"))


CREDIT_FILE = """query W1($u: String!) { enterprise(uscc: $u) { uscc name creditGrade blacklisted
  licences(first: 10) { nodes { number product status validFrom validUntil } }
  spotChecks(first: 10) { nodes { reportNumber level sampledAt result inspectingBody } }
  recalls(first: 10) { nodes { noticeNumber title hazard startedOn status } } } }"""

README_CREDIT_FILE = """query W5($u: String!) { enterprise(uscc: $u) {
    uscc name status region { code name } industry { code name }
    creditGrade creditHistory(first: 5) { nodes { grade score evaluatedAt authority basis } }
    blacklisted blacklistEntries { listType reason legalBasis authority listedAt publicityEndsOn
      removedAt removalReason }
    licences(first: 10) { nodes { number product status validFrom validUntil
      history { status at reason } } }
    spotChecks(first: 10) { nodes { level sampledAt product { name brand gtin } result
      failedItems { item standard required measured } inspectingBody publishedAt } }
    recalls(first: 10) { nodes { noticeNumber title hazard remedy affectedUnits startedOn
      status } }
    products(first: 10) { nodes { name brand model gtin category } } } }"""
"""The README's first example, the whole credit file, with its USCC as a variable."""

PRODUCTS = """query($u: String!, $n: Int, $after: String) { enterprise(uscc: $u) {
  products(first: $n, after: $after) { totalCount edges { cursor node { id name gtin
    enterprise { uscc } } } pageInfo { hasNextPage endCursor } } } }"""

ROOTS = """query($l: String!, $g: String!, $lf: LicenceFilterInput, $sf: SpotCheckFilterInput,
    $rf: RecallFilterInput, $wf: ConsumerWarningFilterInput, $pf: ProductFilterInput,
    $r: CheckResult) {
  licence(number: $l) { number status enterprise { name } history { status at reason } }
  licences(filter: $lf, first: 3) { totalCount nodes { number status validUntil
    enterprise { uscc } } pageInfo { hasNextPage endCursor } }
  spotChecks(filter: $sf, first: 3) { totalCount nodes { reportNumber result level
    region { code name } product { name category } enterprise { name }
    failedItems { item measured } } }
  product(gtin: $g) { name gtin spotChecks(first: 5, result: $r) { totalCount nodes { result } }
    recalls(first: 5) { nodes { title product { gtin } } } enterprise { uscc } }
  products(filter: $pf, first: 4) { totalCount nodes { name brand } }
  recalls(filter: $rf, first: 20) { totalCount nodes { title startedOn enterprise { name } } }
  consumerWarnings(filter: $wf, first: 20) { totalCount nodes { title hazard advice severity
    issuedOn relatedRecalls { title startedOn } relatedProducts { name gtin } } } }"""
"""The other README roots, with their filters given by variables."""

README_ROOTS = """{ licence(number: "LICENCE") { status enterprise { name } }
  licences(filter: { status: REVOKED }, first: 20) { nodes { number enterprise { name } } }
  spotChecks(filter: { result: FAIL, level: NATIONAL }, first: 20) {
    nodes { product { name } enterprise { name } failedItems { item } } }
  product(gtin: "GTIN") { name spotChecks(first: 5) { nodes { result } }
    recalls(first: 5) { nodes { title } } }
  recalls(filter: { startedAfter: "2024-01-01" }, first: 20) { nodes { title enterprise { name } } }
  consumerWarnings(first: 20) { nodes { title hazard advice severity issuedOn
    relatedRecalls { title } } } }"""
"""The README's other examples, their arguments as literals (the statement's constants)."""

NODE = """query($id: ID!) { node(id: $id) { id __typename ... on Enterprise { uscc name
  blacklisted } ... on Licence { number status history { status } } ...Listing
  ... on Node { ... on Recall { title } } } }
  fragment Listing on BlacklistEntry { listedAt enterprise { uscc } }"""
"""``node(id:)``: the fields of the type the ID names, of no other."""

NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { id __typename ... on Enterprise { uscc
  blacklisted } ... on Licence { number } ...Listing } }
  fragment Listing on BlacklistEntry { listedAt enterprise { uscc } }"""
"""``nodes(ids:)``: each ID's object or null, in the order given, a type's ID twice too."""

EVERY_FIELD = """query($u: String!) { enterprise(uscc: $u) { __typename id uscc name status
  legalRepresentative address establishedOn creditGrade sourceAgency publishedAt blacklisted
  region { code name __typename } industry { code name }
  creditHistory(first: 2) { __typename totalCount
    nodes { id grade score evaluatedAt authority basis sourceAgency publishedAt }
    pageInfo { hasNextPage hasPreviousPage } }
  licences { totalCount nodes { id number product status issuedBy validFrom validUntil
    sourceAgency publishedAt enterprise { uscc } } }
  spotChecks(first: 3) { edges { __typename cursor node { id reportNumber level sampledAt result
    inspectingBody sourceAgency publishedAt } } pageInfo { __typename startCursor endCursor
    hasNextPage hasPreviousPage } }
  recalls { totalCount nodes { id noticeNumber title productName category hazard remedy kind
    status affectedUnits producedFrom producedUntil startedOn enterprise { name } } } } }"""

PAGED_LICENCES = """query($u: String!, $n: Int, $s: LicenceStatus, $after: String) {
  enterprise(uscc: $u) { licences(first: $n, status: $s, after: $after) { totalCount
    edges { cursor node { number status validFrom } }
    pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } } }"""

FAILED_CHECKS = """query($u: String!) { enterprise(uscc: $u) {
  spotChecks(result: FAIL, first: 1) { totalCount nodes { reportNumber result }
    pageInfo { hasNextPage endCursor } }
  only: spotChecks(first: 0) { totalCount nodes { reportNumber } pageInfo { hasNextPage } } } }"""

BLACKLIST = """query($f: BlacklistFilterInput, $n: Int, $after: String) {
  blacklist(filter: $f, first: $n, after: $after) { totalCount
    edges { cursor node { id decisionNumber listType reason legalBasis authority listedAt
      publicityEndsOn sourceAgency publishedAt removedAt removalReason
      enterprise { name uscc blacklisted } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""

BLACKLIST_LITERAL = """{ blacklist(filter: { regionCode: "440000" }, first: 50) {
  nodes { decisionNumber listedAt enterprise { name uscc } } } }"""

ENTERPRISES = """query($f: EnterpriseFilterInput, $n: Int, $after: String) {
  enterprises(filter: $f, first: $n, after: $after) { totalCount
    edges { cursor node { uscc name creditGrade blacklisted establishedOn } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""

OLDEST_FIRST = """query($n: Int, $after: String) {
  enterprises(order: OLDEST, first: $n, after: $after) {
    edges { cursor node { uscc establishedOn } } pageInfo { hasNextPage endCursor } } }"""

BY_NAME = """{ enterprises(order: NAME, filter: { regionCode: "440000" }) {
  totalCount nodes { name uscc } pageInfo { hasNextPage } } }"""

BY_NAME_PAGES = """query($n: Int, $after: String) { enterprises(order: NAME, first: $n,
  after: $after) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }"""

CREDIT_PAGES = """query($u: String!, $n: Int, $after: String) { enterprise(uscc: $u) {
  creditHistory(first: $n, after: $after) { edges { cursor node { grade evaluatedAt } }
    pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } } }"""

FRAGMENTS = """query($u: String!) { enterprise(uscc: $u) { ...Identity ... on Enterprise {
  creditGrade } } } fragment Identity on Enterprise { uscc name ... { blacklisted } }"""

LITERALS = """{ enterprises(filter: { creditGrades: [A, B], blacklisted: false, status: ACTIVE,
  regionCode: "440000" }, first: 3) { totalCount nodes { uscc licences(status: VALID, first: 2) {
  nodes { number } } } }
  blacklist(filter: { listType: SERIOUS_VIOLATION, listedAfter: "2020-01-01" }, first: 2) {
  nodes { decisionNumber } } }"""
"""Arguments the document itself gives, which the statement has as literals."""


def _literal_batch(usccs: list[str]) -> str:
    return (
        "{ "
        + " ".join(f'e{i}: enterprise(uscc: "{u}") {{ uscc }}' for i, u in enumerate(usccs))
        + " }"
    )


RUNS = """query($a: String!, $b: String!, $c: String!, $d: String!) {
  a: enterprise(uscc: $a) { uscc name } b: enterprise(uscc: $b) { uscc name }
  list: blacklist(first: 1) { nodes { decisionNumber } }
  c: enterprise(uscc: $c) { uscc blacklisted } d: enterprise(uscc: $d) { uscc blacklisted }
  e: enterprise(uscc: $a) { uscc name } }"""
"""Runs of lookups (a b, c d) between other roots: the answer keeps the document's order."""


def _batch(count: int) -> str:
    variables = ", ".join(f"$u{i}: String!" for i in range(count))
    fields = " ".join(
        f"e{i}: enterprise(uscc: $u{i}) {{ uscc creditGrade blacklisted }}" for i in range(count)
    )
    return f"query({variables}) {{ {fields} }}"


def _documents(world: World, batch_size: int) -> list[tuple[str, dict[str, Any]]]:
    """``batch_size``: as many aliases as the tier allows; over 50 needs two JSON objects."""
    firm, other, draft = world.firm.uscc, world.other.uscc, world.draft.uscc
    batch = ([firm, other, draft, world.absent] * 25)[:batch_size]
    return [
        (CREDIT_FILE, {"u": firm}),
        (CREDIT_FILE, {"u": draft}),
        (CREDIT_FILE, {"u": world.absent}),
        (EVERY_FIELD, {"u": firm}),
        *((NODE, {"id": encode_id(kind, pk)}) for kind, pk in world.nodes),
        (NODES, {"ids": [encode_id(kind, pk) for kind, pk in world.nodes] * 2}),
        (ROOTS, {"l": world.licence, "g": world.gtin}),
        (ROOTS, {"l": world.licence.lower(), "g": world.gtin, "r": "FAIL"}),
        (
            ROOTS,
            {
                "l": "XK13-000-00000",
                "g": world.gtin,
                "lf": {"status": "REVOKED", "regionCode": "440000", "product": "电线"},
                "sf": {"result": "FAIL", "level": "NATIONAL", "regionCode": "110000"},
                "rf": {"startedAfter": "2024-06-01", "regionCode": "440300"},
                "wf": {"severity": "HIGH", "issuedAfter": "2024-06-01"},
                "pf": {"category": None, "brand": None},
            },
        ),
        (
            ROOTS,
            {
                "l": world.licence,
                "g": world.gtin,
                "lf": {"validOn": str(today()), "expiresBefore": "2030-01-01", "product": "%"},
                "sf": {"sampledAfter": "2025-02-01", "sampledBefore": "2025-12-31"},
                "rf": {"startedBefore": "2024-12-31", "status": None},
            },
        ),
        (README_ROOTS.replace("LICENCE", world.licence).replace("GTIN", world.gtin), {}),
        (README_CREDIT_FILE, {"u": firm}),
        (README_CREDIT_FILE, {"u": other}),
        (README_CREDIT_FILE, {"u": draft}),
        (PRODUCTS, {"u": firm, "n": 1}),
        (PRODUCTS, {"u": firm, "n": 5}),
        (EVERY_FIELD, {"u": other}),
        (EVERY_FIELD, {"u": draft}),
        (PAGED_LICENCES, {"u": firm}),
        (PAGED_LICENCES, {"u": firm, "n": 2, "s": None}),
        (PAGED_LICENCES, {"u": firm, "n": 1, "s": "VALID"}),
        (FAILED_CHECKS, {"u": firm}),
        (BLACKLIST, {}),
        (BLACKLIST, {"f": {"regionCode": "440300"}, "n": 1}),
        (BLACKLIST, {"f": {"regionCode": "440000", "listType": "SERIOUS_VIOLATION"}}),
        (BLACKLIST, {"f": {"listedAfter": str(today() - timedelta(days=40))}, "n": 2}),
        (BLACKLIST, {"f": {"listedBefore": str(today() - timedelta(days=20)), "listType": None}}),
        (BLACKLIST_LITERAL, {}),
        (ENTERPRISES, {}),
        (ENTERPRISES, {"f": {"regionCode": "440000"}, "n": 2}),
        (ENTERPRISES, {"f": {"creditGrades": ["A", "B"], "blacklisted": False}}),
        (ENTERPRISES, {"f": {"creditGrade": "B", "blacklisted": True, "creditGrades": "D"}}),
        (ENTERPRISES, {"f": {"industryCode": "C14", "status": "ACTIVE", "creditGrades": []}}),
        (ENTERPRISES, {"f": {"blacklisted": None, "regionCode": "440100"}}),
        (OLDEST_FIRST, {"n": 2}),
        (BY_NAME, {}),
        (FRAGMENTS, {"u": firm}),
        (RUNS, {"a": firm, "b": world.absent, "c": draft, "d": other}),
        (LITERALS, {}),
        (_literal_batch([firm, world.absent, draft, other]), {}),
        (_batch(batch_size), {f"u{i}": u for i, u in enumerate(batch)}),
    ]


postgres_only = pytest.mark.parametrize("dialect", ["postgres"], indirect=True)
"""For what only PostgreSQL has (``pg_sleep``); every other test runs on both databases, each
compiling its own statements (``schema.compiled.dialects``)."""


async def _both(
    reads: CompiledReads,
    sessionmaker: async_sessionmaker[HubSession],
    principal: Principal,
    query: str,
    variables: dict[str, Any],
) -> tuple[Any, Any]:
    compiled = await reads.answer(principal.tier, query, variables)
    assert compiled is not None, reads.tiers[principal.tier].reason(query)
    resolved = await run_as(principal, sessionmaker, query, variables)
    assert "errors" not in resolved, resolved["errors"]
    # Written alike, not only equal: ``True == 1`` in Python, but not in JSON (SQLite stores
    # truth values as 0 and 1), and the keys come in the document's order.
    answer = orjson.loads(compiled)
    assert written(answer) == written(resolved), (query, variables)
    return answer, resolved


@pytest.mark.parametrize("tier", TIERS)
async def test_compiled_answers_equal_the_resolvers(
    dialect: str,
    session: HubSession,
    sessionmaker: async_sessionmaker[HubSession],
    connection: AsyncConnection,
    tier: str,
) -> None:
    world = await _world(session)
    await session.commit()
    reads = CompiledReads(connection, {t: build_schema(t) for t in Tier}, Limits())
    principal = TIERS[tier]
    batch_size = Limits().of(principal.tier).max_aliases
    assert tier != "internal" or batch_size > 50
    for query, variables in _documents(world, batch_size):
        compiled, resolved = await _both(reads, sessionmaker, principal, query, variables)
        assert compiled == resolved, (query, variables)
        assert list(compiled["data"]) == list(resolved["data"]), "the document's order"


async def test_pages_follow_cursors_like_the_resolvers(
    dialect: str,
    session: HubSession,
    sessionmaker: async_sessionmaker[HubSession],
    connection: AsyncConnection,
) -> None:
    world = await _world(session)
    await session.commit()
    extra = [
        await make_enterprise(session, established_on=date(1999 + n % 3, 5, 5)) for n in range(5)
    ]
    await session.commit()
    reads = CompiledReads(connection, {t: build_schema(t) for t in Tier}, Limits())
    seen: list[str] = []
    after = None
    while True:
        variables = {"u": world.firm.uscc, "n": 1, "after": after}
        compiled, resolved = await _both(reads, sessionmaker, PUBLIC, PAGED_LICENCES, variables)
        assert compiled == resolved
        licences = compiled["data"]["enterprise"]["licences"]
        seen += [edge["node"]["number"] for edge in licences["edges"]]
        if not licences["pageInfo"]["hasNextPage"]:
            break
        after = licences["pageInfo"]["endCursor"]
    assert len(seen) == 5 == len(set(seen))
    after = None
    listed: list[str] = []
    for _ in range(5):
        variables = {"n": 1, "after": after}
        compiled, resolved = await _both(reads, sessionmaker, INTERNAL, BLACKLIST, variables)
        assert compiled == resolved
        page = compiled["data"]["blacklist"]
        listed += [edge["node"]["decisionNumber"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
    assert len(set(listed)) == 5
    after = None
    oldest: list[str] = []
    while True:
        variables = {"n": 2, "after": after}
        compiled, resolved = await _both(reads, sessionmaker, INTERNAL, OLDEST_FIRST, variables)
        assert compiled == resolved
        page = compiled["data"]["enterprises"]
        oldest += [edge["node"]["uscc"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(oldest) == len(set(oldest)) == len(extra) + 3  # and the world's three
    # cursors of names (text, JSON-escaped as orjson escapes) and of timestamps
    await make_enterprise(session, name='引号"与\\反斜杠公司', established_on=date(2001, 1, 1))
    await session.commit()
    for query, variables, path in (
        (BY_NAME_PAGES, {}, ("enterprises",)),
        (CREDIT_PAGES, {"u": world.firm.uscc}, ("enterprise", "creditHistory")),
    ):
        after, walked = None, []
        while True:
            compiled, resolved = await _both(
                reads, sessionmaker, INTERNAL, query, {**variables, "n": 1, "after": after}
            )
            assert compiled == resolved
            page = compiled["data"]
            for key in path:
                page = page[key]
            walked += [edge["cursor"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(walked) == len(set(walked)) >= 3


async def test_a_cursor_written_in_the_document_pages_as_one_given_by_a_variable(
    dialect: str,
    session: HubSession,
    sessionmaker: async_sessionmaker[HubSession],
    connection: AsyncConnection,
) -> None:
    """The document's own cursor is written into the statement as a literal (``sql_constant``).
    A timestamp's must compare as the stored ones: on SQLite, where timestamps are text, it was
    written in its ISO form, which sorts after the stored form of the same instant, and the
    page after a cursor began with the cursor's own row."""
    world = await _world(session)
    await session.commit()
    reads = CompiledReads(connection, {t: build_schema(t) for t in Tier}, Limits())
    first, _ = await _both(
        reads, sessionmaker, INTERNAL, CREDIT_PAGES, {"u": world.firm.uscc, "n": 1, "after": None}
    )
    history = first["data"]["enterprise"]["creditHistory"]
    cursor = history["pageInfo"]["endCursor"]
    assert history["edges"][0]["node"]["evaluatedAt"] == "2025-03-02T07:08:09.000120+00:00"
    by_variable, _ = await _both(
        reads, sessionmaker, INTERNAL, CREDIT_PAGES, {"u": world.firm.uscc, "n": 5, "after": cursor}
    )
    written_in = CREDIT_PAGES.replace(", $n: Int, $after: String", "")
    written_in = written_in.replace("$n", "5").replace("$after", f'"{cursor}"')
    in_document, _ = await _both(reads, sessionmaker, INTERNAL, written_in, {"u": world.firm.uscc})
    assert in_document == by_variable
    edges = in_document["data"]["enterprise"]["creditHistory"]["edges"]
    assert [edge["node"]["evaluatedAt"] for edge in edges] == [
        "2024-05-06T07:08:09+00:00",
        "2024-04-27T07:08:09+00:00",  # a draft: the internal tier sees it
    ]


LONG_LISTS = """query($u: String!) { enterprise(uscc: $u) {
  blacklistEntries { decisionNumber listedAt }
  licences(first: 100) { nodes { number validFrom } pageInfo { endCursor hasNextPage } } } }"""


async def test_long_lists_keep_their_order(
    dialect: str,
    session: HubSession,
    sessionmaker: async_sessionmaker[HubSession],
    connection: AsyncConnection,
) -> None:
    """SQLite has no ordered aggregate: its arrays follow a sorted subquery's order, which its
    planner keeps (``schema.compiled.dialects``). Lists longer than any of the world's, in an
    order the rows were not written in, come out as the resolvers sort them."""
    # given: rows written in an order unlike the lists' own (newest first, then by id)
    firm = await make_enterprise(session)
    day = today()
    for n in range(150):
        shuffled = (n * 37) % 150
        await make_entry(session, firm, day - timedelta(days=shuffled), day + timedelta(days=9))
        await make_licence(session, firm, valid_from=date(2000, 1, 1) + timedelta(days=shuffled))
    await session.commit()
    reads = CompiledReads(connection, {t: build_schema(t) for t in Tier}, Limits())
    # when
    compiled, _ = await _both(reads, sessionmaker, INTERNAL, LONG_LISTS, {"u": firm.uscc})
    # then (``_both``: as the resolvers wrote them)
    enterprise = compiled["data"]["enterprise"]
    listed = [entry["listedAt"] for entry in enterprise["blacklistEntries"]]
    assert len(listed) == 150
    assert listed == sorted(listed, reverse=True)
    valid_from = [licence["validFrom"] for licence in enterprise["licences"]["nodes"]]
    assert len(valid_from) == 100
    assert valid_from == sorted(valid_from, reverse=True)
    assert enterprise["licences"]["pageInfo"]["hasNextPage"] is True


DEEP = """query($u: String!) { enterprise(uscc: $u) { uscc licences(first: 2) { nodes { number
  enterprise { uscc licences(first: 2) { nodes { number enterprise { uscc licences(first: 2) {
  nodes { number enterprise { uscc } } } } } } } } } } }"""
"""Seven objects deep, three of them pages: beyond SQLite's parser, within the internal
tier's limits."""


async def test_a_statement_too_deep_for_sqlite_goes_to_the_resolvers(
    dialect: str,
    session: HubSession,
    sessionmaker: async_sessionmaker[HubSession],
    connection: AsyncConnection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = await _world(session)
    await session.commit()
    reads = CompiledReads(connection, {t: build_schema(t) for t in Tier}, Limits())
    variables = {"u": world.firm.uscc}
    caplog.set_level(logging.INFO, logger="hub.compiled")
    if dialect == "postgres":
        await _both(reads, sessionmaker, INTERNAL, DEEP, variables)
        return
    for _ in range(2):
        assert await reads.answer(Tier.INTERNAL, DEEP, variables) is None
    reasons = [r.__dict__.get("reason") for r in caplog.records if r.name == "hub.compiled"]
    assert reasons == ["too deep for SQLite: parser stack overflow"]  # once
    resolved = await run_as(INTERNAL, sessionmaker, DEEP, variables)
    licences = resolved["data"]["enterprise"]["licences"]["nodes"]
    assert licences[0]["enterprise"]["licences"]["nodes"][0]["enterprise"]["uscc"] == (
        world.firm.uscc
    )


NOT_COMPILED = {
    "personal data": "{ enterprise(uscc: $u) { legalRepresentativeIdNumber } }",
    "a search beside a field without a SQL form": '{ searchEnterprises(query: "华为") '
    "{ totalCount } statistics { recallsByMonth { month count } } }",
    "suppressed statistics": "{ statistics { recallsByMonth { month count } } }",
    "an invalid document": "{ enterprise(uscc: $u) { nope } }",
}


@pytest.mark.parametrize("case", NOT_COMPILED)
def test_what_the_compiler_leaves_to_the_resolvers(case: str) -> None:
    reads = CompiledReads(None, {t: build_schema(t) for t in Tier}, Limits())  # type: ignore[arg-type]
    query = "query($u: String!, $o: EnterpriseOrder) " + NOT_COMPILED[case]
    assert reads.tiers[Tier.INTERNAL].reason(query) is not None
    assert reads.tiers[Tier.INTERNAL].plan(query, None) is None


SHAPED = (
    "query($u: String!, $x: Boolean!, $o: EnterpriseOrder) {"
    " enterprise(uscc: $u) { name creditGrade @include(if: $x) uscc @skip(if: $x)"
    " region { code } ...R region { name } name }"
    " enterprises(order: $o, first: 3) @skip(if: false) { nodes { name } edges { cursor } }"
    " ... @include(if: $x) { licence: enterprises(first: 1) { totalCount } } }"
    " fragment R on Enterprise { region { code name } }"
)
"""``@include``/``@skip`` and an ``order``, by variable: compiled for each of their values;
and a response key selected more than once (``region``, ``name``): merged, as GraphQL does."""


async def test_directives_orders_by_variable_and_merged_fields_compile(
    dialect: str,
    session: HubSession,
    sessionmaker: async_sessionmaker[HubSession],
    connection: AsyncConnection,
) -> None:
    world = await _world(session)
    await session.commit()
    reads = CompiledReads(connection, {t: build_schema(t) for t in Tier}, Limits())
    answers = []
    for x, order in [(True, "NAME"), (False, "NAME"), (True, None), (False, "OLDEST")]:
        variables: dict[str, Any] = {"u": world.firm.uscc, "x": x}
        if order is not None:
            variables["o"] = order
        compiled, resolved = await _both(reads, sessionmaker, PUBLIC, SHAPED, variables)
        assert compiled == resolved
        answers.append(compiled["data"])
    assert [sorted(a["enterprise"]) for a in answers] == [
        ["creditGrade", "name", "region"],
        ["name", "region", "uscc"],
        ["creditGrade", "name", "region"],
        ["name", "region", "uscc"],
    ]
    assert sorted(answers[0]["enterprise"]["region"]) == ["code", "name"]
    assert ["licence" in a for a in answers] == [True, False, True, False]
    assert answers[0]["enterprises"] != answers[2]["enterprises"]  # by name, and newest first
    plan = reads.tiers[Tier.PUBLIC].plan(SHAPED, None)
    assert plan is not None
    assert len(plan.operations) == 4  # one operation for each of the four shapes
    assert all(isinstance(operation, Operation) for operation in plan.operations.values())


BAD_ARGUMENTS = [
    ("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["RW50ZXJwcmlzZTox"] * 101}),
    ("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["RW50ZXJwcmlzZTox", "!!"]}),
    ("query($u: String!) { enterprise(uscc: $u) { name } }", {"u": "not-a-uscc"}),
    ("query($u: String!) { enterprise(uscc: $u) { name } }", {"u": 12}),
    ("query($u: String!) { enterprise(uscc: $u) { name } }", {}),
    ("query($n: Int) { blacklist(first: $n) { totalCount } }", {"n": 101}),
    ("query($n: Int) { blacklist(first: $n) { totalCount } }", {"n": True}),
    ("query($a: String) { blacklist(after: $a) { totalCount } }", {"a": "garbage"}),
    (
        "query($f: BlacklistFilterInput) { blacklist(filter: $f) { totalCount } }",
        {"f": {"regionCode": "44"}},
    ),
]


@pytest.mark.parametrize(("query", "variables"), BAD_ARGUMENTS)
async def test_bad_arguments_go_to_the_resolvers_and_get_their_errors(
    dialect: str,
    connection: AsyncConnection,
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
) -> None:
    reads = CompiledReads(connection, {t: build_schema(t) for t in Tier}, Limits())
    assert reads.tiers[Tier.PUBLIC].plan(query, None) is not None
    assert await reads.answer(Tier.PUBLIC, query, variables) is None
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200
    codes = {e["extensions"]["code"] for e in response.json().get("errors", [])}
    assert codes & {"BAD_USER_INPUT", "FORBIDDEN"}, response.json()


async def test_the_endpoint_serves_compiled_answers_on_both_databases(
    dialect: str, session: HubSession, client: httpx.AsyncClient
) -> None:
    firm = await make_enterprise(session)
    await session.commit()
    app: Any = client._transport.app  # type: ignore[attr-defined]
    endpoint = next(r.app for r in app.routes if getattr(r, "path", None) == "/graphql")
    compiled = endpoint.compiled
    response = await client.post(
        "/graphql", json={"query": CREDIT_FILE, "variables": {"u": firm.uscc}}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"]["enterprise"]["uscc"] == firm.uscc
    by_get = await client.get(
        "/graphql",
        params={"query": CREDIT_FILE, "variables": orjson.dumps({"u": firm.uscc}).decode()},
    )
    assert by_get.status_code == 200
    assert by_get.json() == response.json()
    assert response.headers["x-hub-plan"] == by_get.headers["x-hub-plan"] == "compiled"
    assert compiled is not None
    assert compiled.dialect.name == {"postgres": "postgresql", "sqlite": "sqlite"}[dialect]
    plans = compiled.tiers[Tier.PUBLIC].plans
    assert plans[(CREDIT_FILE, None)] is not None
    assert by_get.content == response.content  # both compiled: the database's own spacing


def test_compile_queries_false_turns_the_path_off(
    dialect: str, sessionmaker: async_sessionmaker[HubSession], tmp_path: Path
) -> None:
    from hub.app import create_app
    from hub.config import Settings

    def endpoint(settings: Settings) -> Any:
        app = create_app(settings, sessionmaker=sessionmaker)
        return next(r.app for r in app.routes if getattr(r, "path", None) == "/graphql")  # type: ignore[attr-defined]

    key = tmp_path / "key.pem"
    assert endpoint(Settings(signing_key_path=key)).compiled is not None
    assert endpoint(Settings(signing_key_path=key, compile_queries=False)).compiled is None


async def test_a_filter_the_compiler_does_not_know_goes_to_the_resolvers(
    dialect: str, session: HubSession, connection: AsyncConnection, client: httpx.AsyncClient
) -> None:
    firm = await make_enterprise(session)
    entry = await make_entry(session, firm, today() - timedelta(days=1), today())
    await session.commit()
    query = "query($f: BlacklistFilterInput) { blacklist(filter: $f) { nodes { decisionNumber } } }"
    variables = {"f": {"uscc": firm.uscc}}
    reads = CompiledReads(connection, {t: build_schema(t) for t in Tier}, Limits())
    assert await reads.answer(Tier.PUBLIC, query, variables) is None
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.json() == {
        "data": {"blacklist": {"nodes": [{"decisionNumber": entry.decision_number}]}}
    }


@postgres_only
async def test_reads_beyond_the_concurrency_wait_their_turn_in_arrival_order(
    dialect: str, connection: AsyncConnection
) -> None:
    """One connection, which serves one statement at a time: a gate of one must queue the
    other reads (asyncpg refuses a second operation in progress) and serve them in order."""
    reads = CompiledReads(connection, {}, Limits(), concurrency=1)
    done: list[int] = []

    async def read(n: int) -> None:
        text = await reads.fetch("SELECT (pg_sleep(0.02)::text || $1::text)", [str(n)])
        done.append(int(text))

    await asyncio.gather(*(read(n) for n in range(6)))
    assert done == list(range(6))


def test_a_plan_measures_each_set_of_first_values_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The measure depends on the ``first`` values alone: each is measured once, and what
    is over the limits still goes to the resolvers, every time it is asked."""
    from schema.compiled import plan as plans

    limits = Limits().public.model_copy(update={"max_cost": 21})
    queries = CompiledQueries(build_schema(Tier.PUBLIC)._schema, limits, sees_unpublished=False)
    plan = queries.plan("query($n: Int) { enterprises(first: $n) { nodes { name } } }", None)
    assert plan is not None
    measured: list[Any] = []
    real = plans.measure

    def measure(*arguments: Any) -> Any:
        measured.append(arguments[3].get("n", "absent"))
        return real(*arguments)

    monkeypatch.setattr(plans, "measure", measure)
    outcomes = []
    for variables in ({"n": 10}, {"n": 11}, {"n": 10}, {"n": 11}, {}, {}, {"n": True}, {"n": True}):
        try:
            plan.bind(variables)
            outcomes.append("compiled")
        except FallbackError:
            outcomes.append("resolvers")
    # 1 + 10 × (1 + 1) = 21: at the limit; 11 items, or the default 20, are over it
    assert outcomes == ["compiled", "resolvers"] * 2 + ["resolvers"] * 4
    # True is no whole number: measured at every request, never remembered
    assert measured == [10, 11, "absent", True, True]
