"""The statistics page through the real app, on SQLite and PostgreSQL: charts drawn as SVG on
the server, each followed by its data table, with the API's figures and its withheld ones."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import httpx
import pytest

from hub.db import HubSession
from tests.fixtures.graphql import data
from tests.fixtures.statistics import JUNE_18, seed_recalls, seed_spot_checks


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """The instant both the page (its default months) and the API read as now."""

    def set_now(instant: datetime) -> None:
        monkeypatch.setattr("schema.statistics.queries.utcnow", lambda: instant)
        monkeypatch.setattr("hub.portal.pages.utcnow", lambda: instant)

    set_now(JUNE_18)
    return set_now


def main_of(page: str) -> str:
    found = re.search(r"<main id=\"main\"[^>]*>(.*)</main>", page, re.DOTALL)
    assert found is not None, page
    return found.group(1)


def section(page: str, id: str) -> str:
    found = re.search(rf'<section aria-labelledby="{id}">(.*?)</section>', page, re.DOTALL)
    assert found is not None, page
    return found.group(1)


def bars(part: str) -> dict[str, str]:
    """The drawn bars of a chart: label to value."""
    return dict(
        re.findall(r'<rect class="bar" [^>]*data-label="([^"]+)" data-value="([^"]+)"', part)
    )


def hatched(part: str) -> list[str]:
    """The labels of a chart's withheld figures."""
    return re.findall(r'<rect class="withheld" [^>]*data-label="([^"]+)"', part)


def rows(part: str) -> list[list[str]]:
    """The data table's rows: the row header, then the cells, as text."""
    table = re.search(r'<table class="figures">.*?<tbody>(.*?)</tbody>', part, re.DOTALL)
    assert table is not None, part
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.DOTALL):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)
        found.append([re.sub(r"<[^>]+>", "", cell).strip() for cell in cells])
    return found


async def test_each_chart_is_svg_followed_by_its_table_with_the_api_figures(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    # given
    await seed_spot_checks(session)
    await seed_recalls(session)
    # when
    response = await client.get("/statistics")
    # then
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=60"
    page = main_of(response.text)
    assert "<h1>统计</h1>" in page

    by_region = section(page, "by-region")
    assert (
        '<svg class="chart" id="by-region-chart" viewBox="0 0 880 104" role="img" '
        'aria-labelledby="by-region-chart-title by-region-chart-desc"'
    ) in by_region
    assert '<title id="by-region-chart-title">各省份的抽查不合格率</title>' in by_region
    assert bars(by_region) == {"广东省": str(12 / 42)}
    assert hatched(by_region) == ["北京市", "上海市"]
    assert "<caption>各省份的监督抽查</caption>" in by_region
    assert '<th scope="col">省份</th>' in by_region
    assert rows(by_region) == [
        ["广东省", "42", "12", "28.6%"],
        ["北京市", "不予公布", "不予公布", "不予公布"],
        ["上海市", "不予公布", "不予公布", "不予公布"],
    ]

    by_category = section(page, "by-category")
    assert bars(by_category) == {"乳制品": str(18 / 58)}
    assert rows(by_category)[0] == ["乳制品", "58", "18", "31.0%"]
    assert hatched(by_category) == ["儿童玩具", "电动自行车"]

    recalls = section(page, "recalls-by-month")
    # the last 24 months that are over, from the first with a recall on record
    assert "2023-06 至 2025-05" in recalls
    assert bars(recalls) == {"2025-02": "0", "2025-03": "12", "2025-05": "11"}
    assert hatched(recalls) == ["2025-01", "2025-04"]
    assert rows(recalls) == [
        ["2025-01", "不予公布"],
        ["2025-02", "0"],
        ["2025-03", "12"],
        ["2025-04", "不予公布"],
        ["2025-05", "11"],
    ]
    listings = section(page, "listings-by-month")
    assert "这些月份没有公开的记录。" in listings
    assert "<svg" not in listings


async def test_the_page_shows_what_the_api_answers(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    await seed_recalls(session)

    page = main_of((await client.get("/statistics?from_month=2025-03&to_month=2025-04")).text)
    api = await data(
        client,
        """{ statistics {
          recallsByMonth(fromMonth: "2025-03", toMonth: "2025-04") { month count } } }""",
    )

    shown = {
        row[0]: (None if row[1] == "不予公布" else int(row[1]))
        for row in rows(section(page, "recalls-by-month"))
    }
    assert shown == {m["month"]: m["count"] for m in api["statistics"]["recallsByMonth"]}
    assert shown == {"2025-03": 12, "2025-04": None}
    assert '<input id="from_month" name="from_month" type="month" value="2025-03">' in page


async def test_the_page_in_english(
    session: HubSession, client: httpx.AsyncClient, clock: Callable[[datetime], None]
) -> None:
    await seed_spot_checks(session)

    page = main_of((await client.get("/statistics?lang=en")).text)

    assert "<h1>Statistics</h1>" in page
    by_region = section(page, "by-region")
    assert '<title id="by-region-chart-title">Spot-check failure rate by province</title>' in (
        by_region
    )
    assert rows(by_region)[2] == ["上海市", "withheld", "withheld", "withheld"]
    assert "A count below 10 is withheld" in page


async def test_the_menu_links_the_page(client: httpx.AsyncClient) -> None:
    home = await client.get("/")
    assert '<li><a href="/statistics">统计</a></li>' in home.text


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("from_month=2025-13", "from_month: a month is written YYYY-MM, e.g. 2025-04"),
        ("to_month=last", "to_month: a month is written YYYY-MM, e.g. 2025-04"),
        (
            "from_month=2025-05&to_month=2025-04",
            "Invalid value for &#39;fromMonth&#39;: 2025-05 is after toMonth (2025-04)",
        ),
    ],
)
async def test_bad_months_get_a_400_page(
    client: httpx.AsyncClient, clock: Callable[[datetime], None], query: str, problem: str
) -> None:
    response = await client.get(f"/statistics?{query}")
    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"
    assert problem in main_of(response.text)
