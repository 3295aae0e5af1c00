"""A time rule's two readings agree: the SQL condition (``Window.holds``) and the period the
search index stores (``Window.period``), from the one declaration, at every instant around
each of the rule's edges, on both dialects."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from hub.blacklist.models import BlacklistEntry
from hub.blacklist.repository import in_force, in_force_period
from hub.db import HubSession
from hub.kit.time import SHANGHAI, Instant
from hub.licence.models import Licence, LicenceStatus
from hub.licence.repository import IN_FORCE as LICENCE_IN_FORCE
from hub.licence.repository import in_force as licence_in_force
from tests.fixtures.blacklist import make_entry, make_removal
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.licence import make_licence

DAY = date(2026, 3, 10)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), SHANGHAI)


def _around(moments: list[datetime]) -> list[datetime]:
    """Each edge, a microsecond before it, and an hour either side."""
    found = set()
    for moment in moments:
        for delta in (
            timedelta(0),
            timedelta(microseconds=-1),
            timedelta(hours=-1),
            timedelta(hours=1),
        ):
            found.add((moment + delta).astimezone(UTC))
    return sorted(found)


def _within(period: tuple[datetime, datetime | None] | None, moment: datetime) -> bool:
    if period is None:
        return False
    start, end = period
    return start <= moment and (end is None or moment < end)


async def test_a_listing_in_force_is_in_its_period_and_nowhere_else(session: HubSession) -> None:
    firm = await make_enterprise(session)
    published = _midnight(DAY) + timedelta(hours=9, minutes=30)
    cases = [
        # published after the listing day began; publicity through DAY + 5
        (
            await make_entry(session, firm, DAY, DAY + timedelta(days=5), published_at=published),
            None,
        ),
        # removed on DAY + 3: in force through DAY + 2
        (await make_entry(session, firm, DAY, DAY + timedelta(days=5)), DAY + timedelta(days=3)),
        # removed before it was listed: never in force
        (await make_entry(session, firm, DAY, DAY + timedelta(days=5)), DAY - timedelta(days=1)),
        # a draft: never
        (await make_entry(session, firm, DAY, DAY + timedelta(days=5), published=False), None),
    ]
    for entry, removed_on in cases:
        if removed_on is not None:
            await make_removal(session, entry, removed_on)
    await session.flush()
    edges = [published, *(_midnight(DAY + timedelta(days=n)) for n in (-1, 0, 2, 3, 5, 6))]
    for moment in _around(edges):
        inside = set(
            await session.scalars(
                select(BlacklistEntry.id).where(
                    BlacklistEntry.enterprise_id == firm.id,
                    in_force(BlacklistEntry, Instant.at(moment)),
                )
            )
        )
        expected = {
            entry.id
            for entry, removed_on in cases
            if _within(
                in_force_period(
                    {
                        "published_at": entry.published_at,
                        "listed_on": entry.listed_on,
                        "publicity_ends_on": entry.publicity_ends_on,
                    },
                    removed_on,
                ),
                moment,
            )
        }
        assert inside == expected, moment
    # the periods themselves
    first = in_force_period(
        {"published_at": published, "listed_on": DAY, "publicity_ends_on": DAY + timedelta(5)},
        None,
    )
    assert first == (published, _midnight(DAY + timedelta(days=6)))


async def test_a_licence_in_force_is_in_its_period_and_nowhere_else(session: HubSession) -> None:
    firm = await make_enterprise(session)
    valid = await make_licence(session, firm, valid_from=DAY, valid_until=DAY + timedelta(days=2))
    revoked = await make_licence(
        session, firm, LicenceStatus.REVOKED, valid_from=DAY, valid_until=DAY + timedelta(2)
    )
    await session.flush()
    edges = [_midnight(DAY + timedelta(days=n)) for n in (0, 1, 3)]
    for moment in _around(edges):
        inside = set(
            await session.scalars(
                select(Licence.id).where(
                    Licence.enterprise_id == firm.id, licence_in_force(Licence, Instant.at(moment))
                )
            )
        )
        period = LICENCE_IN_FORCE.period(
            {
                "published_at": valid.published_at,
                "valid_from": valid.valid_from,
                "valid_until": valid.valid_until,
            }
        )
        assert inside == ({valid.id} if _within(period, moment) else set()), moment
        assert revoked.id not in inside
