"""Row rules: the public sees published records only, and blacklist entries only in force."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx

from hub.db import HubSession
from hub.kit.time import today, utcnow
from hub.licence.models import LicenceStatus
from tests.fixtures.blacklist import make_entry, make_removal
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.graphql import data
from tests.fixtures.licence import make_licence
from tests.fixtures.quality import make_product, make_spot_check
from tests.fixtures.recall import make_recall
from tests.fixtures.warning import make_warning

QUERY = """query($u: String!) { enterprise(uscc: $u) {
    blacklisted blacklistEntries { decisionNumber } } }"""


async def test_only_entries_in_force_are_public(
    session: HubSession, client: httpx.AsyncClient
) -> None:
    # given
    firm = await make_enterprise(session, region_code="370200")
    day = today()
    in_force = await make_entry(
        session, firm, listed_on=day - timedelta(days=30), publicity_ends_on=day
    )
    await make_entry(  # publicity over yesterday
        session,
        firm,
        listed_on=day - timedelta(days=800),
        publicity_ends_on=day - timedelta(days=1),
    )
    await make_entry(  # listed from tomorrow
        session, firm, listed_on=day + timedelta(days=1), publicity_ends_on=day + timedelta(days=9)
    )
    await make_entry(  # a draft
        session,
        firm,
        listed_on=day - timedelta(days=3),
        publicity_ends_on=day + timedelta(days=300),
        published=False,
    )
    await make_entry(  # published in the future
        session,
        firm,
        listed_on=day - timedelta(days=3),
        publicity_ends_on=day + timedelta(days=300),
        published_at=utcnow() + timedelta(hours=1),
    )
    repaired = await make_entry(
        session,
        firm,
        listed_on=day - timedelta(days=90),
        publicity_ends_on=day + timedelta(days=90),
    )
    await make_removal(session, repaired, removed_on=day - timedelta(days=2))

    # when
    answer = await data(client, QUERY, {"u": firm.uscc})
    listed = await data(
        client,
        '{ blacklist(filter: { regionCode: "370200" }) { totalCount nodes { decisionNumber } } }',
    )

    # then
    assert answer["enterprise"] == {
        "blacklisted": True,
        "blacklistEntries": [{"decisionNumber": in_force.decision_number}],
    }
    assert listed["blacklist"] == {
        "totalCount": 1,
        "nodes": [{"decisionNumber": in_force.decision_number}],
    }


async def test_a_repaired_enterprise_is_not_blacklisted(
    session: HubSession, client: httpx.AsyncClient
) -> None:
    firm = await make_enterprise(session)
    day = today()
    entry = await make_entry(
        session,
        firm,
        listed_on=day - timedelta(days=10),
        publicity_ends_on=day + timedelta(days=300),
    )
    assert (await data(client, QUERY, {"u": firm.uscc}))["enterprise"]["blacklisted"] is True

    await make_removal(session, entry, removed_on=day)

    assert (await data(client, QUERY, {"u": firm.uscc}))["enterprise"] == {
        "blacklisted": False,
        "blacklistEntries": [],
    }


async def test_drafts_are_hidden_everywhere(session: HubSession, client: httpx.AsyncClient) -> None:
    firm = await make_enterprise(session, region_code="510100")
    await make_licence(session, firm, LicenceStatus.VALID, published=False)
    product = await make_product(session, firm, published=False)
    await make_spot_check(session, product, published=False)
    visible_product = await make_product(session, firm)
    await make_spot_check(session, visible_product, published=False)
    await make_recall(session, firm, published=False, started_on=date(2031, 1, 1))
    await make_warning(session, published=False, issued_on=date(2031, 1, 1))

    answer = await data(
        client,
        """query($u: String!) {
            enterprise(uscc: $u) {
                licences { totalCount } products { totalCount nodes { spotChecks { totalCount } } }
                spotChecks { totalCount } recalls { totalCount } }
            recalls(filter: { startedAfter: "2031-01-01" }) { totalCount }
            consumerWarnings(filter: { issuedAfter: "2031-01-01" }) { totalCount } }""",
        {"u": firm.uscc},
    )
    assert answer == {
        "enterprise": {
            "licences": {"totalCount": 0},
            "products": {"totalCount": 1, "nodes": [{"spotChecks": {"totalCount": 0}}]},
            "spotChecks": {"totalCount": 0},
            "recalls": {"totalCount": 0},
        },
        "recalls": {"totalCount": 0},
        "consumerWarnings": {"totalCount": 0},
    }


async def test_timestamps_carry_a_zone(session: HubSession, client: httpx.AsyncClient) -> None:
    moment = datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC)
    firm = await make_enterprise(session, published_at=moment)
    answer = await data(
        client, "query($u: String!) { enterprise(uscc: $u) { publishedAt } }", {"u": firm.uscc}
    )
    assert answer == {"enterprise": {"publishedAt": "2025-02-03T04:05:06+00:00"}}
