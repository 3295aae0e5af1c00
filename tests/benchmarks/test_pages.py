"""P1, the portal's credit page: the enterprises its keys are drawn from, and its wrk requests.

The key query (``full_record_sql``) is held to the hub's own public rules: for each enterprise
it counts as many lists of the full record as the page's read, sent to the app, shows.
"""

from __future__ import annotations

import socket
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from benchmarks.compare.load import write_wrk_config
from benchmarks.compare.run import Options, free_ports
from benchmarks.compare.workloads import (
    FULL_RECORD,
    WORKLOADS,
    Contestant,
    Population,
    full_record_sql,
    lists_shown,
)
from hub.db import HubSession
from hub.enterprise.models import Enterprise
from hub.portal.pages import document
from hub.quality.models import CheckResult
from tests.fixtures.blacklist import make_entry, make_removal
from tests.fixtures.credit_file import full_credit_file
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.licence import make_licence
from tests.fixtures.quality import make_product, make_spot_check
from tests.fixtures.recall import make_recall

postgres_only = pytest.mark.parametrize("dialect", ["postgres"], indirect=True)
"""The key query is PostgreSQL's, as the benchmark database is."""

TODAY = date.today()
FAILED = [("菌落总数", "GB 19644-2010", "≤50000 CFU/g", "120000 CFU/g")]


async def _almost_full(
    session: HubSession,
    *,
    listing_removed: bool = False,
    failed_check_published: bool = True,
    published: bool = True,
) -> Enterprise:
    """An enterprise with every list of the full record, but for what the flags take away."""
    firm = await make_enterprise(session, published=published)
    entry = await make_entry(
        session,
        firm,
        listed_on=TODAY - timedelta(days=60),
        publicity_ends_on=TODAY + timedelta(days=300),
    )
    if listing_removed:
        await make_removal(session, entry, TODAY - timedelta(days=10))
    await make_licence(session, firm)
    product = await make_product(session, firm)
    await make_spot_check(
        session, product, CheckResult.FAIL, failed=FAILED, published=failed_check_published
    )
    await make_recall(session, firm, product)
    await session.commit()
    return firm


async def _keys(session: HubSession) -> list[tuple[str, int]]:
    rows = await session.execute(text(full_record_sql()))
    return [(uscc, lists) for uscc, lists in rows]


async def _shown(client: httpx.AsyncClient, uscc: str) -> int:
    """The lists of the full record that the credit page's own read has filled."""
    answer = await client.post(
        "/graphql",
        json={"query": document("enterprise"), "variables": {"uscc": uscc, "first": 100}},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    return lists_shown(body["data"]["enterprise"])


@postgres_only
async def test_the_keys_are_the_enterprises_with_a_full_public_record(
    dialect: str, session: HubSession, client: httpx.AsyncClient
) -> None:
    # given: one full record; the same lists with the listing removed (credit repair), with
    # the failed check unpublished, and on an unpublished enterprise
    full = await full_credit_file(session)
    repaired = await _almost_full(session, listing_removed=True)
    unchecked = await _almost_full(session, failed_check_published=False)
    await _almost_full(session, published=False)

    # when
    keys = await _keys(session)

    # then
    assert keys == [(full.uscc, len(FULL_RECORD))]
    assert [await _shown(client, f.uscc) for f in (full, repaired, unchecked)] == [5, 4, 4]
    page = await client.get(f"/enterprises/{full.uscc}", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert full.name in page.text


@postgres_only
async def test_without_a_full_record_the_fullest_are_the_keys(
    dialect: str, session: HubSession
) -> None:
    repaired = await _almost_full(session, listing_removed=True)
    unchecked = await _almost_full(session, failed_check_published=False)
    bare = await make_enterprise(session)
    await session.commit()

    keys = await _keys(session)

    assert keys == [(repaired.uscc, 4), (unchecked.uscc, 4)]
    assert bare.uscc not in dict(keys)


def test_p1_is_the_hubs_credit_page_with_8_clients_over_full_records() -> None:
    p1 = WORKLOADS["P1"]
    assert p1.contestants == (Contestant.HUB,)
    assert p1.page == "/enterprises/{uscc}"
    assert p1.connections == 8
    assert p1.population is Population.FULL_RECORD
    assert p1.keys == ("uscc",)
    assert not p1.open_loop


def test_the_wrk_config_of_a_page_gets_its_path(tmp_path: Path) -> None:
    keys = tmp_path / "usccs-full-record.txt"
    config = write_wrk_config(WORKLOADS["P1"], Contestant.HUB, keys, tmp_path, seed=11)
    assert config.read_text().splitlines() == [
        "batch=1",
        "names=uscc",
        "page=/enterprises/{uscc}",
        f"keys={keys}",
        "zipf=0.0",
        "seed=11",
    ]
    assert list(tmp_path.glob("*.body")) == []


def test_ports_above_4299_can_be_asked_for() -> None:
    # The harness once searched 4201..4299 whatever was asked, so --hub-port 4311 failed.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = free_ports(Options(hub_port=port, postgraphile_port=port + 1))
    assert (options.hub_port, options.postgraphile_port) == (port + 1, port + 2)
