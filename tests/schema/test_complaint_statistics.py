"""The public complaint statistics cannot be differenced: each known attack, over HTTP.

The public gets whole cells of one table (past month × province × category) with primary and
complementary suppression, and sums of its published cells; see hub/kit/suppression.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from hub.auth.principal import ANONYMOUS
from hub.complaint.repository import ComplaintDimension, ComplaintRepository, TableFilter
from hub.db import HubSession
from hub.kit.time import SHANGHAI
from tests.fixtures.complaint import make_complaints
from tests.fixtures.graphql import data, error, post

MILK, TOYS, BIKES = "乳制品", "儿童玩具", "电动自行车"
SHENZHEN, GUANGZHOU, SHANGHAI_CITY, BEIJING = "440300", "440100", "310000", "110000"

# The cells of April and May 2025: province (as its first city) × category.
APRIL = {
    (SHENZHEN, MILK): 10, (SHENZHEN, TOYS): 20, (SHENZHEN, BIKES): 15,
    (SHANGHAI_CITY, MILK): 12, (SHANGHAI_CITY, TOYS): 25, (SHANGHAI_CITY, BIKES): 30,
    (BEIJING, MILK): 14, (BEIJING, TOYS): 11, (BEIJING, BIKES): 40,
}  # fmt: skip
MAY = {**APRIL, (SHENZHEN, MILK): 1}  # plus 2 in Guangzhou: Guangdong's milk is 3

CELLS = """query($filter: ComplaintStatisticsFilterInput) {
  complaintStatistics(groupBy: [MONTH, REGION, CATEGORY], filter: $filter) {
    month region { code } category count suppressed withheldCells } }"""


def at(year: int, month: int, day: int, hour: int = 10, second: int = 0) -> datetime:
    """An instant given in Shanghai time."""
    return datetime(year, month, day, hour, 0, second, tzinfo=SHANGHAI).astimezone(UTC)


JUNE_18 = at(2025, 6, 18)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Sets the instant the statistics resolver reads ("now"), as the repository takes it."""

    def set_now(instant: datetime) -> None:
        monkeypatch.setattr("schema.complaints.queries.utcnow", lambda: instant)

    set_now(JUNE_18)
    return set_now


async def seed_april_and_may(session: HubSession) -> None:
    for month, cells in ((4, APRIL), (5, MAY)):
        for (region, category), n in cells.items():
            await make_complaints(
                session,
                n,
                region_code=region,
                product_category=category,
                received_at=at(2025, month, 10),
            )
    await make_complaints(session, 2, region_code=GUANGZHOU, received_at=at(2025, 5, 11))
    await session.commit()


async def statistics(
    client: httpx.AsyncClient, group_by: str, filter: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    answer = await data(
        client,
        f"""query($filter: ComplaintStatisticsFilterInput) {{
          complaintStatistics(groupBy: [{group_by}], filter: $filter) {{
            month region {{ code }} category count withheldCells }} }}""",
        {"filter": filter},
    )
    rows: list[dict[str, Any]] = answer["complaintStatistics"]
    return rows


def row(
    count: int | None,
    withheld: int = 0,
    *,
    month: str | None = None,
    region: str | None = None,
    category: str | None = None,
) -> dict[str, Any]:
    return {
        "month": month,
        "region": {"code": region} if region else None,
        "category": category,
        "count": count,
        "withheldCells": withheld,
    }


# May's Guangdong milk (3) is withheld; its row, column and pillar each need a second cell, and
# the search settles on the cube {Guangdong, Shanghai} × {milk, bikes} × {April, May}.
WITHHELD = {
    (month, province, category)
    for month in ("2025-04", "2025-05")
    for province in ("440000", "310000")
    for category in (MILK, BIKES)
}
PUBLISHED = {
    ("2025-04", "440000", TOYS): 20, ("2025-04", "310000", TOYS): 25,
    ("2025-04", "110000", MILK): 14, ("2025-04", "110000", TOYS): 11,
    ("2025-04", "110000", BIKES): 40,
    ("2025-05", "440000", TOYS): 20, ("2025-05", "310000", TOYS): 25,
    ("2025-05", "110000", MILK): 14, ("2025-05", "110000", TOYS): 11,
    ("2025-05", "110000", BIKES): 40,
}  # fmt: skip


async def test_the_public_table_is_its_cells_primary_and_complementary_suppression(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    await seed_april_and_may(session)

    answer = await data(client, CELLS)

    cells = {
        (c["month"], c["region"]["code"], c["category"]): c["count"]
        for c in answer["complaintStatistics"]
    }
    assert cells == {**PUBLISHED, **dict.fromkeys(WITHHELD)}
    assert all(
        c["suppressed"] is (c["count"] is None) and c["withheldCells"] == int(c["count"] is None)
        for c in answer["complaintStatistics"]
    )


async def test_a_one_second_shift_of_received_after_is_refused(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    # given: the probe's 43 + 1 complaints, the last received one second later
    await make_complaints(session, 43, received_at=at(2025, 4, 10, second=0))
    await make_complaints(session, 1, received_at=at(2025, 4, 10, second=1))
    await session.commit()
    probe = """query($after: DateTime!) { complaintStatistics(groupBy: [REGION],
      filter: { receivedAfter: $after }) { count } }"""

    # when
    first = await post(client, probe, {"after": "2025-04-10T02:00:00Z"})
    second = await post(client, probe, {"after": "2025-04-10T02:00:01Z"})
    by_day = await error(
        client, '{ complaintStatistics(filter: { fromMonth: "2025-04-10" }) { count } }'
    )
    by_month = await statistics(client, "", {"fromMonth": "2025-04", "toMonth": "2025-04"})

    # then: no time finer than a month exists for the public
    for answer in (first, second):
        assert answer["data"] is None
        assert [e["extensions"] for e in answer["errors"]] == [
            {"code": "BAD_USER_INPUT", "argument": "filter"}
        ]
        assert "unknown field 'receivedAfter'" in answer["errors"][0]["message"]
    assert by_day["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "filter.fromMonth",
        "reason": "a month is written YYYY-MM, e.g. 2025-04",
    }
    assert by_month == [row(44)]


async def test_a_range_minus_its_months_leaves_nothing(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    await seed_april_and_may(session)
    guangdong_milk = {"regionCode": "440000", "productCategory": MILK}

    # when: the old attack, a range total minus April, to get May's 3
    whole = await statistics(client, "", {**guangdong_milk, "fromMonth": "2025-04"})
    months = await statistics(client, "MONTH", {**guangdong_milk, "fromMonth": "2025-04"})
    everything = await statistics(client, "", {"fromMonth": "2025-04", "toMonth": "2025-05"})
    by_month = await statistics(client, "MONTH", {"fromMonth": "2025-04", "toMonth": "2025-05"})

    # then: both cells are withheld and no total includes them
    assert whole == [row(None, 2)]
    assert months == [row(None, 1, month="2025-04"), row(None, 1, month="2025-05")]
    assert everything == [row(220, 8)]
    assert by_month == [row(110, 4, month="2025-04"), row(110, 4, month="2025-05")]
    # every grouping sums the same published cells
    for group_by in ("REGION", "CATEGORY", "MONTH, REGION", "REGION, CATEGORY"):
        rows = await statistics(client, group_by)
        assert sum(r["count"] or 0 for r in rows) == 220 == sum(PUBLISHED.values()), group_by
        assert sum(r["withheldCells"] for r in rows) == 8, group_by


async def test_a_province_minus_its_cities_is_impossible(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    await seed_april_and_may(session)

    # when
    city = await error(
        client, '{ complaintStatistics(filter: { regionCode: "440300" }) { count } }'
    )
    province = await statistics(client, "CATEGORY", {"regionCode": "440000"})
    regions = await statistics(client, "REGION")

    # then: cities do not exist publicly; the province is the sum of its published cells
    assert city["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "filter.regionCode",
        "reason": "complaint statistics are published by province only: give a province code "
        "such as 440000",
    }
    assert province == [
        row(None, 2, category=MILK),
        row(40, 0, category=TOYS),
        row(None, 2, category=BIKES),
    ]
    assert regions == [
        row(130, 0, region="110000"),
        row(50, 4, region="310000"),
        row(40, 4, region="440000"),
    ]


async def test_the_current_month_is_not_published_and_the_table_holds_all_month(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    # given: the table as of 3 June
    await seed_april_and_may(session)
    clock(at(2025, 6, 3))
    june_3 = await data(client, CELLS)
    current = await error(
        client, '{ complaintStatistics(filter: { toMonth: "2025-06" }) { count } }'
    )

    # when: June's complaints arrive, and one of May recorded late, on 10 June
    await make_complaints(session, 5, region_code=SHENZHEN, received_at=at(2025, 6, 2))
    await make_complaints(session, 7, region_code=SHENZHEN, received_at=at(2025, 6, 10))
    await make_complaints(
        session,
        1,
        region_code=BEIJING,
        product_category=BIKES,
        received_at=at(2025, 5, 20),
        created_at=at(2025, 6, 10),
    )
    await session.commit()
    clock(at(2025, 6, 20))
    june_20 = await data(client, CELLS)
    clock(at(2025, 7, 1, hour=0))
    july_1 = await data(client, CELLS)

    # then: the same answer all June, without June; the next table has June and the late one
    assert current["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "filter.toMonth",
        "reason": "only months before the current one (2025-06, Asia/Shanghai) are published: "
        "a month's counts are published once it is over",
    }
    assert june_20 == june_3
    assert {c["month"] for c in june_3["complaintStatistics"]} == {"2025-04", "2025-05"}
    july = {
        (c["month"], c["region"]["code"], c["category"]): c["count"]
        for c in july_1["complaintStatistics"]
    }
    assert july[("2025-06", "440000", MILK)] == 12
    assert july[("2025-05", "110000", BIKES)] == 41


async def test_the_instant_is_an_input_of_the_repository(session: HubSession) -> None:
    # given
    await seed_april_and_may(session)
    repository = ComplaintRepository(session, ANONYMOUS)
    dimensions = set(ComplaintDimension)

    # when: asked on two days of June, with a June complaint recorded in between
    june_3 = await repository.statistics(dimensions, TableFilter(), at(2025, 6, 3))
    await make_complaints(session, 30, received_at=at(2025, 6, 5))
    june_30 = await repository.statistics(dimensions, TableFilter(), at(2025, 6, 30, hour=23))
    july = await repository.statistics(dimensions, TableFilter(), at(2025, 7, 1, hour=0))

    # then
    assert june_30 == june_3
    assert len(june_3) == 18
    assert [(c.month, c.count) for c in july if c.month == "2025-06"] == [("2025-06", 30)]


async def test_no_line_lets_its_total_give_a_withheld_cell_away(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    # given: the table, and the true totals of its lines as a press release might print them
    await seed_april_and_may(session)

    answer = await data(client, CELLS)

    cells = {
        (c["month"], c["region"]["code"], c["category"]): c["count"]
        for c in answer["complaintStatistics"]
    }
    lines: dict[tuple[int, tuple[str, ...]], list[int | None]] = {}
    for cell, count in cells.items():
        for d in range(3):
            lines.setdefault((d, cell[:d] + cell[d + 1 :]), []).append(count)
    # then: a line with a withheld cell has at least two, or no published cell beside it, so
    # its total minus its published cells is the sum of two unknowns at least
    exposed = [
        line
        for line, counts in lines.items()
        if counts.count(None) == 1 and any(n is not None for n in counts)
    ]
    assert exposed == []
    assert (
        sorted(len(counts) for counts in lines.values() if counts.count(None) >= 1)
        == [2] * 4 + [3] * 8
    )
    assert all(counts.count(None) in (0, 2) for counts in lines.values())
