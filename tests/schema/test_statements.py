"""No N+1: a page's SQL statement count does not grow with the page size."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.db import HubSession, recorded_statements
from hub.enterprise.models import CreditGrade
from hub.kit.time import today
from hub.quality.models import CheckResult
from tests.fixtures.blacklist import make_entry
from tests.fixtures.common import PUBLISHED
from tests.fixtures.credit import make_evaluation
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.graphql import data
from tests.fixtures.licence import make_licence
from tests.fixtures.quality import make_product, make_spot_check
from tests.fixtures.recall import make_recall

PAGE = """query($n: Int!) { enterprises(filter: { regionCode: "420100" }, first: $n) {
  totalCount nodes { uscc name creditGrade blacklisted region { name } industry { name }
    creditHistory(first: 3) { totalCount nodes { grade } }
    blacklistEntries { reason removedAt }
    licences(first: 5) { totalCount nodes { number status history { status } } }
    spotChecks(first: 5) { nodes { result product { name gtin } failedItems { item } } }
    recalls(first: 5) { nodes { title product { name } } }
    products(first: 5) { nodes { name recalls(first: 2) { nodes { title } } } } } } }"""
"""A page of credit files. On PostgreSQL it is one compiled statement; the test's app answers
with the resolvers alone, whose statement count this test is about (SQLite's path, and the path
of any document with a field that has no SQL form)."""


def _selects(statements: list[str]) -> int:
    return sum(1 for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH")))


async def test_statement_count_is_the_same_for_10_and_100_enterprises(
    session: HubSession, resolvers: httpx.AsyncClient, connection: AsyncConnection
) -> None:
    # given 100 enterprises, each with a little of everything
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

    counts = {}
    for size in (10, 100):
        # when
        with recorded_statements(connection.sync_connection) as statements:  # type: ignore[arg-type]
            answer = await data(resolvers, PAGE, {"n": size})
        # then
        nodes = answer["enterprises"]["nodes"]
        assert len(nodes) == size
        assert all(len(n["spotChecks"]["nodes"][0]["failedItems"]) == 1 for n in nodes)
        assert all(n["products"]["nodes"][0]["recalls"]["nodes"] for n in nodes)
        counts[size] = _selects(statements)

    assert counts[10] == counts[100]
    # One per list or lookup in the document: the page and its count; blacklisted, region,
    # industry; credit history and its count; blacklist entries and their removals; licences,
    # their count and histories; spot checks, their products (shared with the recalls' products)
    # and failed items; recalls; products and their recalls.
    assert counts[100] == 18
