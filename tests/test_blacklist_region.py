"""The blacklist's copy of each enterprise's region, which its region filter reads."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from hub.auth.principal import Principal
from hub.blacklist.models import BlacklistEntry
from hub.blacklist.repository import BlacklistFilter, BlacklistRepository
from hub.db import HubSession
from hub.enterprise.models import Enterprise
from hub.kit.pagination import PageRequest
from tests.fixtures.blacklist import make_entry
from tests.fixtures.enterprise import make_enterprise


async def _regions(session: HubSession) -> dict[int, str | None]:
    rows = await session.execute(select(BlacklistEntry.id, BlacklistEntry.region_code))
    return {entry_id: region for entry_id, region in rows.all()}


async def _listed_in(session: HubSession, region_code: str) -> list[str]:
    repository = BlacklistRepository(session, Principal())
    page = await repository.find(BlacklistFilter(region_code=region_code), PageRequest(first=10))
    return [entry.decision_number for entry in page.items]


async def test_an_entry_takes_its_enterprises_region(session: HubSession) -> None:
    # given
    shenzhen = await make_enterprise(session, region_code="440300")
    shanghai = await make_enterprise(session, region_code="310000")

    # when
    first = await make_entry(session, shenzhen, date(2025, 3, 1), date(2099, 1, 1))
    second = await make_entry(session, shanghai, date(2025, 3, 2), date(2099, 1, 1))

    # then
    assert await _regions(session) == {first.id: "440300", second.id: "310000"}
    assert await _listed_in(session, "440000") == [first.decision_number]
    assert await _listed_in(session, "440300") == [first.decision_number]
    assert await _listed_in(session, "440100") == []


async def test_the_entries_follow_their_enterprise_to_another_region(
    session: HubSession,
) -> None:
    # given
    firm = await make_enterprise(session, region_code="310000")
    other = await make_enterprise(session, region_code="310000")
    moved = await make_entry(session, firm, date(2024, 3, 1), date(2099, 1, 1))
    also_moved = await make_entry(session, firm, date(2025, 3, 1), date(2099, 1, 1))
    stays = await make_entry(session, other, date(2025, 3, 2), date(2099, 1, 1))

    # when
    await session.execute(
        update(Enterprise).where(Enterprise.id == firm.id).values(region_code="440100")
    )

    # then
    assert await _regions(session) == {
        moved.id: "440100",
        also_moved.id: "440100",
        stays.id: "310000",
    }
    assert await _listed_in(session, "440000") == [
        also_moved.decision_number,
        moved.decision_number,
    ]
    assert await _listed_in(session, "310000") == [stays.decision_number]


async def test_an_entry_moved_to_another_enterprise_takes_its_region(
    session: HubSession,
) -> None:
    # given
    guangzhou = await make_enterprise(session, region_code="440100")
    beijing = await make_enterprise(session, region_code="110000")
    entry = await make_entry(session, guangzhou, date(2025, 3, 1), date(2099, 1, 1))

    # when
    await session.execute(
        update(BlacklistEntry).where(BlacklistEntry.id == entry.id).values(enterprise_id=beijing.id)
    )

    # then
    assert await _regions(session) == {entry.id: "110000"}
