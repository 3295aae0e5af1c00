"""The public statistics over HTTP: figures of published records only, small counts withheld.

Every figure is exact: a draft, a record published tomorrow, a removed or lapsed listing or a
record of the month under way would each change one, and a count below 10 is withheld with its
complement (hub/kit/suppression.py), as in the complaint statistics.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.db import HubSession, create_engine, create_sessionmaker
from hub.kit.memo import FIGURES_FRESH_SECONDS
from hub.migrate import upgrade
from tests.fixtures.blacklist import make_entry, make_removal
from tests.fixtures.databases import empty_database
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.graphql import data, error
from tests.fixtures.principals import INTERNAL, PARTNER, run_as
from tests.fixtures.quality import make_product
from tests.fixtures.statistics import (
    BEIJING,
    BIKES,
    JUNE_1_SHANGHAI,
    JUNE_18,
    MILK,
    TOYS,
    checks,
    seed_recalls,
    seed_spot_checks,
    tomorrow,
)

RATES = """{ statistics {
  spotChecksByRegion { region { code name } category checks failed failureRate withheldCells }
  spotChecksByCategory { region { code } category checks failed failureRate withheldCells }
} }"""

MONTHS = """query($from: String, $to: String) { statistics {
  recallsByMonth(fromMonth: $from, toMonth: $to) { month count withheld }
  blacklistListingsByMonth(fromMonth: $from, toMonth: $to) { month count withheld }
} }"""


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Sets the instant the statistics are computed at; the rows' visibility stays real."""

    def set_now(instant: datetime) -> None:
        monkeypatch.setattr("schema.statistics.queries.utcnow", lambda: instant)

    set_now(JUNE_18)
    return set_now


def withheld_group(**key: Any) -> dict[str, Any]:
    return {"checks": None, "failed": None, "failureRate": None, "withheldCells": 2, **key}


async def test_spot_check_failure_rates_by_province_and_category(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    # given
    await seed_spot_checks(session)
    # when
    answer = (await data(client, RATES))["statistics"]
    # then Shanghai's 3 failed checks are withheld, so is its row's other cell (its total
    # would give them away), and so is Beijing's 10 failed (the smallest complement of the
    # failed column), with the other cell of its row
    assert answer["spotChecksByRegion"] == [
        withheld_group(region={"code": "110000", "name": "北京市"}, category=None),
        withheld_group(region={"code": "310000", "name": "上海市"}, category=None),
        {
            "region": {"code": "440000", "name": "广东省"},
            "category": None,
            "checks": 42,
            "failed": 12,
            "failureRate": 12 / 42,
            "withheldCells": 0,
        },
    ]
    # and by category, toys (4 failed) and bikes (3 failed) are withheld, with their rows
    assert answer["spotChecksByCategory"] == [
        {
            "region": None,
            "category": MILK,
            "checks": 58,
            "failed": 18,
            "failureRate": 18 / 58,
            "withheldCells": 0,
        },
        withheld_group(region=None, category=TOYS),
        withheld_group(region=None, category=BIKES),
    ]


async def test_every_caller_gets_the_public_figures(
    session: HubSession,
    sessionmaker: async_sessionmaker[HubSession],
    client: httpx.AsyncClient,
    clock: Callable[[datetime], None],
) -> None:
    await seed_spot_checks(session)
    public = await data(client, RATES)
    # an internal agency sees drafts in the lists, but not in the statistics
    assert await run_as(INTERNAL, sessionmaker, RATES) == {"data": public}
    assert await run_as(PARTNER, sessionmaker, RATES) == {"data": public}


async def test_a_group_whose_failures_are_none_is_published_with_zero(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    firm = await make_enterprise(session)
    product = await make_product(session, firm, category=TOYS)
    await checks(session, product, BEIJING, 24, 0)
    await session.commit()

    answer = (await data(client, RATES))["statistics"]

    assert answer["spotChecksByCategory"] == [
        {
            "region": None,
            "category": TOYS,
            "checks": 24,
            "failed": 0,
            "failureRate": 0.0,
            "withheldCells": 0,
        }
    ]


def month(name: str, count: int | None) -> dict[str, Any]:
    return {"month": name, "count": count, "withheld": count is None}


async def test_recalls_per_month(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    await seed_recalls(session)

    answer = (await data(client, MONTHS))["statistics"]

    # April's 3 are withheld; the complement is January, the smallest of the older months
    # (May was not out yet when April was); February had none, which is no secret.
    assert answer["recallsByMonth"] == [
        month("2025-01", None),
        month("2025-02", 0),
        month("2025-03", 12),
        month("2025-04", None),
        month("2025-05", 11),
    ]


async def test_a_range_of_months_picks_months_and_withholds_the_same(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    await seed_recalls(session)

    ranged = await data(client, MONTHS, {"from": "2025-03", "to": "2025-04"})
    before_records = await data(client, MONTHS, {"from": "2020-01", "to": "2025-02"})
    # a month not yet over has no figure: the series ends with May
    future = await data(client, MONTHS, {"from": "2025-05", "to": "2026-12"})

    assert ranged["statistics"]["recallsByMonth"] == [month("2025-03", 12), month("2025-04", None)]
    assert before_records["statistics"]["recallsByMonth"] == [
        month("2025-01", None),
        month("2025-02", 0),
    ]
    assert future["statistics"]["recallsByMonth"] == [month("2025-05", 11)]


async def test_months_are_those_of_shanghai(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    # given the first half hour of June in Shanghai, still May 31 in UTC
    await seed_recalls(session)
    clock(JUNE_1_SHANGHAI)
    # when
    answer = (await data(client, MONTHS))["statistics"]
    # then May is over, and the recall of June 1 counts in no month yet
    assert answer["recallsByMonth"][-1] == month("2025-05", 11)


async def test_blacklist_listings_per_month_count_only_listings_in_force(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    # given listings in force: February 2025 10, March 12, April 4
    firm = await make_enterprise(session)
    ends = date(2099, 12, 31)
    for n, listed_on in ((10, date(2025, 2, 3)), (12, date(2025, 3, 4)), (4, date(2025, 4, 5))):
        for _ in range(n):
            await make_entry(session, firm, listed_on, ends)
    # and March listings the public cannot see: removed by credit repair, a draft, one
    # published tomorrow, one whose publicity ended
    for _ in range(2):
        removed = await make_entry(session, firm, date(2025, 3, 4), ends)
        await make_removal(session, removed, date(2025, 4, 1))
    await make_entry(session, firm, date(2025, 3, 4), ends, published=False)
    await make_entry(session, firm, date(2025, 3, 4), ends, published_at=tomorrow())
    await make_entry(session, firm, date(2025, 3, 4), date(2025, 12, 31))
    # and one of the month under way
    await make_entry(session, firm, date(2025, 6, 2), ends)
    await session.commit()

    answer = (await data(client, MONTHS))["statistics"]

    # April's 4 are withheld, and February (10, smaller than March's 12) with them
    assert answer["blacklistListingsByMonth"] == [
        month("2025-02", None),
        month("2025-03", 12),
        month("2025-04", None),
        month("2025-05", 0),
    ]


async def test_no_records_no_figures(
    client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    answer = await data(client, RATES + "\n")
    months = await data(client, MONTHS, {"from": "2025-01"})

    assert answer["statistics"] == {"spotChecksByRegion": [], "spotChecksByCategory": []}
    assert months["statistics"] == {"recallsByMonth": [], "blacklistListingsByMonth": []}


@pytest.mark.parametrize(
    ("variables", "argument", "reason"),
    [
        ({"from": "2025-13"}, "fromMonth", "a month is written YYYY-MM, e.g. 2025-04"),
        ({"to": "May 2025"}, "toMonth", "a month is written YYYY-MM, e.g. 2025-04"),
        ({"from": "2025-05", "to": "2025-04"}, "fromMonth", "2025-05 is after toMonth (2025-04)"),
    ],
)
async def test_a_bad_month_is_bad_user_input(
    client: httpx.AsyncClient,
    clock: Callable[[datetime], None],
    variables: dict[str, str],
    argument: str,
    reason: str,
) -> None:
    query = """query($from: String, $to: String) { statistics {
      recallsByMonth(fromMonth: $from, toMonth: $to) { month } } }"""

    found = await error(client, query, variables)

    assert found["message"] == f"Invalid value for '{argument}': {reason}"
    assert found["extensions"]["code"] == "BAD_USER_INPUT"
    assert found["extensions"]["argument"] == argument


async def test_the_app_keeps_the_figures_a_while_and_refreshes_them_behind_requests(
    dialect: str, tmp_path: Path
) -> None:
    """On its own database, as in production: the statistics read millions of rows at scale,
    so the app computes them once for every caller, on connections of their own (hub.kit.memo),
    serves them for five minutes, then serves them stale while one refresh replaces them."""
    from hub.app import create_app
    from hub.config import Settings

    async with empty_database(dialect, tmp_path) as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            writes = create_sessionmaker(engine)
            async with writes() as session:
                await seed_spot_checks(session)  # Guangdong: 42 checks, 12 failed
                await session.commit()
            app = create_app(Settings(database_url=url, signing_key_path=tmp_path / "key.pem"))
            # The lifespan disposes of the app's engines; it also freezes what the collector
            # sees for the process's life (hub.app), which the test undoes.
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
                ) as client,
            ):
                # the spot checks' rates, by province and by category, are read as it starts
                memo = app.state.figures.memo
                for _ in range(200):
                    if len(memo) == 2:
                        break
                    await asyncio.sleep(0.05)
                assert len(memo) == 2
                assert await _guangdong(client) == (42, 12)
                async with writes() as session:
                    firm = await make_enterprise(session, region_code="440300")
                    await checks(session, await make_product(session, firm), "440300", 10, 0)
                    await session.commit()
                # then the figures are the kept ones, for five minutes
                assert await _guangdong(client) == (42, 12)
                # and once they are older, the next request still gets them at once, while a
                # refresh reads the new ones for the requests after it
                memo.clock = lambda: time.monotonic() + FIGURES_FRESH_SECONDS + 1
                assert await _guangdong(client) == (42, 12)
                for _ in range(100):
                    if await _guangdong(client) == (52, 12):
                        break
                    await asyncio.sleep(0.05)
                assert await _guangdong(client) == (52, 12)
        finally:
            gc.unfreeze()
            await engine.dispose()


async def _guangdong(client: httpx.AsyncClient) -> tuple[int, int]:
    rates = (await data(client, RATES))["statistics"]["spotChecksByRegion"]
    found = next(r for r in rates if r["region"]["code"] == "440000")
    return found["checks"], found["failed"]
