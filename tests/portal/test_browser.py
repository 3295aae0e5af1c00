"""The portal in a real browser: Debian's headless Chromium, driven by Selenium.

Every page in both languages loads with no console error and no request leaving the machine,
passes axe-core with no serious or critical violation (WCAG 2.1 A and AA rules and axe's best
practices), and is saved as a screenshot. Then the flows a reader follows: search to an
enterprise's page and its credit report, verified at /verify (genuine, and with a wrong code),
the blacklist's filters and cursor pages, the language switch, GraphiQL.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pypdf import PdfReader
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from hub.kit.months import last_complete_month, shift

#: axe-core's rule sets for WCAG 2.1 levels A and AA, plus its best practices (landmarks,
#: one main, headings in order...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = {"serious", "critical"}


def demo_keys(hub_url: str) -> dict[str, str]:
    """Keys of the demo data, found through the public API as any reader could."""
    query = """{
      blacklist(first: 1) { nodes { enterprise { uscc name } } }
      spotChecks(first: 1, filter: { result: FAIL }) { nodes { enterprise { uscc } } }
    }"""
    data = httpx.post(f"{hub_url}/graphql", json={"query": query}, timeout=30).json()["data"]
    listed = data["blacklist"]["nodes"][0]["enterprise"]
    return {
        "listed": listed["uscc"],
        "listed_name": listed["name"],
        "failed_check": data["spotChecks"]["nodes"][0]["enterprise"]["uscc"],
    }


@pytest.fixture(scope="session")
def keys(hub_url: str) -> dict[str, str]:
    return demo_keys(hub_url)


def pages(keys: dict[str, str]) -> dict[str, tuple[str, int]]:
    """Each page by a name for its screenshot: its path and the status it answers with."""
    return {
        "home": ("/", 200),
        "search": ("/search?q=%E7%A7%91%E6%8A%80", 200),
        "search-empty": ("/search", 200),
        "enterprise-listed": (f"/enterprises/{keys['listed']}", 200),
        "enterprise-failed-check": (f"/enterprises/{keys['failed_check']}", 200),
        "blacklist": ("/blacklist", 200),
        "blacklist-filtered": (
            "/blacklist?list_type=QUALITY_BLACKLIST&listed_after=2020-01-01",
            200,
        ),
        "recalls": ("/recalls", 200),
        "warnings": ("/warnings", 200),
        "statistics": ("/statistics", 200),
        "api": ("/api", 200),
        "verify": ("/verify?number=QCR-20250101-0123456789", 200),
        "not-found": ("/enterprises/91110000013609763T", 404),
        "bad-input": ("/enterprises/123", 400),
    }


PAGE_NAMES = [
    "home", "search", "search-empty", "enterprise-listed", "enterprise-failed-check",
    "blacklist", "blacklist-filtered", "recalls", "warnings", "statistics", "api", "verify",
    "not-found", "bad-input",
]  # fmt: skip


def console_errors(browser: webdriver.Chrome, status: int) -> list[str]:
    """The console's errors since the last call, but for the one an error page's own status
    makes Chromium log ("the server responded with a status of 404")."""
    errors = [
        entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"
    ]
    if status != 200:
        errors = [m for m in errors if f"status of {status}" not in m]
    return errors


def axe(browser: webdriver.Chrome, source: str) -> list[dict[str, Any]]:
    """axe-core's violations of the page in the browser."""
    browser.execute_script(source)
    result = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, { runOnly: { type: "tag", values: arguments[0] } })
          .then((r) => done(r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
          }))))
          .catch((e) => done([{ id: "axe-error", impact: "critical", help: String(e) }]));
        """,
        AXE_TAGS,
    )
    assert isinstance(result, list)
    return result


def screenshot(browser: webdriver.Chrome, path: Path) -> None:
    """The whole page, not only the window."""
    metrics = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_in_both_languages(
    browser: webdriver.Chrome,
    hub_url: str,
    keys: dict[str, str],
    axe_source: str,
    screenshots: Path,
    name: str,
    language: str,
) -> None:
    path, status = pages(keys)[name]
    browser.get_log("browser")  # what earlier tests left
    separator = "&" if "?" in path else "?"
    browser.get(f"{hub_url}{path}{separator}lang={language}")

    html_lang = browser.find_element(By.TAG_NAME, "html").get_attribute("lang")
    assert html_lang == {"zh": "zh-CN", "en": "en"}[language]
    assert len(browser.find_elements(By.TAG_NAME, "h1")) == 1
    assert browser.find_element(By.TAG_NAME, "main").get_attribute("id") == "main"
    assert console_errors(browser, status) == []
    screenshot(browser, screenshots / f"{name}-{language}.png")
    blocking = [v for v in axe(browser, axe_source) if v["impact"] in BLOCKING]
    assert blocking == []


def test_search_leads_to_the_enterprise_page(
    browser: webdriver.Chrome, hub_url: str, keys: dict[str, str]
) -> None:
    # given the home page
    browser.get(f"{hub_url}/?lang=zh")
    # when a reader searches for a listed enterprise by its name and follows the first result
    box = browser.find_element(By.ID, "q")
    box.send_keys(keys["listed_name"])
    box.submit()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("/search?"))
    first = browser.find_element(By.CSS_SELECTOR, "ol.hits a.title")
    assert first.text == keys["listed_name"]
    assert browser.find_elements(By.CSS_SELECTOR, "ol.hits mark") != []
    first.click()
    # then the enterprise's page shows its listing
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("/enterprises/"))
    assert urlsplit(browser.current_url).path == f"/enterprises/{keys['listed']}"
    assert browser.find_element(By.TAG_NAME, "h1").text == keys["listed_name"]
    summary = browser.find_element(By.ID, "summary").find_element(By.XPATH, "..").text
    assert "已列入黑名单" in summary
    assert console_errors(browser, 200) == []


def downloaded_pdf(directory: Path) -> Path:
    """The one PDF the browser saved in ``directory``, once it is complete."""
    done: list[Path] = []

    def saved(_: Any) -> bool:
        if any(directory.glob("*.crdownload")):
            return False
        done[:] = list(directory.glob("*.pdf"))
        return len(done) == 1

    WebDriverWait(None, 60, poll_frequency=0.2).until(saved)
    return done[0]


def submit_verify_form(browser: webdriver.Chrome, number: str, code: str) -> str:
    """The verdict's text after the form at /verify is sent with ``number`` and ``code``."""
    field = browser.find_element(By.ID, "number")
    field.clear()
    field.send_keys(number)
    code_field = browser.find_element(By.ID, "code")
    code_field.clear()
    code_field.send_keys(code)
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    # the answer is a new page: wait for the old one to go, or a second verdict reads the first
    WebDriverWait(browser, 30).until(expected_conditions.staleness_of(page))
    verdict = WebDriverWait(browser, 30).until(
        expected_conditions.presence_of_element_located(
            (By.CSS_SELECTOR, "section[aria-labelledby=verdict]")
        )
    )
    return str(verdict.text)


def test_a_downloaded_report_verifies_at_verify(
    browser: webdriver.Chrome,
    hub_url: str,
    keys: dict[str, str],
    axe_source: str,
    screenshots: Path,
    tmp_path: Path,
) -> None:
    # given a reader on the home page, whose browser saves downloads to a folder of the test's
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    browser.get(f"{hub_url}/?lang=zh")
    # when they search for an enterprise, open its page and download its credit report
    box = browser.find_element(By.ID, "q")
    box.send_keys(keys["listed_name"])
    box.submit()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("/search?"))
    browser.find_element(By.CSS_SELECTOR, "ol.hits a.title").click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("/enterprises/"))
    browser.get_log("browser")
    browser.find_element(By.CSS_SELECTOR, "a.report").click()
    report = downloaded_pdf(tmp_path)
    # then the report names the enterprise, and carries a number and a code
    pdf = report.read_bytes()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    text = text.replace("\n", "")
    assert keys["listed_name"] in text
    number = re.search(r"QCR-\d{8}-[0-9A-Z]{10}", text)
    code = re.search(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}", text)
    assert number is not None and code is not None, text

    # when they follow the footer's link to /verify and enter the number and the code
    browser.find_element(By.CSS_SELECTOR, "footer a[href='/verify']").click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("/verify"))
    verdict = submit_verify_form(browser, number.group(0), code.group(0))
    # then the hub vouches for it, with the SHA-256 of the very file downloaded
    assert "真实有效" in verdict
    assert keys["listed_name"] in verdict
    assert browser.find_element(By.ID, "verified-number").text == number.group(0)
    sha256 = browser.find_element(By.ID, "verified-sha256").text
    assert sha256 == hashlib.sha256(pdf).hexdigest()
    screenshot(browser, screenshots / "verify-genuine-zh.png")
    assert [v for v in axe(browser, axe_source) if v["impact"] in BLOCKING] == []

    # when the code is mistyped
    wrong = code.group(0)[:-1] + ("X" if not code.group(0).endswith("X") else "Y")
    verdict = submit_verify_form(browser, number.group(0), wrong)
    # then the report is unknown
    assert "无法核验" in verdict
    assert browser.find_elements(By.ID, "verified-sha256") == []
    screenshot(browser, screenshots / "verify-unknown-zh.png")
    assert [v for v in axe(browser, axe_source) if v["impact"] in BLOCKING] == []
    assert console_errors(browser, 200) == []


def blacklist_rows(browser: webdriver.Chrome) -> list[list[str]]:
    rows = browser.find_elements(By.CSS_SELECTOR, "table.list tbody tr")
    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def test_the_blacklist_filters_and_pages_by_cursor(browser: webdriver.Chrome, hub_url: str) -> None:
    # given the whole list, which is longer than a page
    browser.get(f"{hub_url}/blacklist?lang=zh")
    first_page = blacklist_rows(browser)
    assert len(first_page) == 20
    # when the reader follows the next page's link
    browser.find_element(By.CSS_SELECTOR, "a[rel=next]").click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("after="))
    second_page = blacklist_rows(browser)
    shared = browser.current_url
    # then it is another page, and its link gives the same page again
    assert second_page != [] and second_page[0] != first_page[0]
    assert {tuple(r) for r in second_page}.isdisjoint({tuple(r) for r in first_page})
    browser.get(shared)
    assert blacklist_rows(browser) == second_page

    # when the reader chooses one list type and a date with the form
    browser.get(f"{hub_url}/blacklist?lang=zh")
    Select(browser.find_element(By.ID, "list_type")).select_by_value("SERIOUS_VIOLATION")
    browser.find_element(By.ID, "listed_after").send_keys("2020-01-01")  # ignored if mistyped
    browser.execute_script("document.getElementById('listed_after').value = '2020-01-01';")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("list_type="))
    # then the address holds the filters, and every row is of that list
    query = parse_qs(urlsplit(browser.current_url).query)
    assert query["list_type"] == ["SERIOUS_VIOLATION"]
    assert query["listed_after"] == ["2020-01-01"]
    rows = blacklist_rows(browser)
    assert rows != []
    assert {row[2] for row in rows} == {"严重违法失信名单"}
    assert all(row[5] >= "2020-01-01" for row in rows)
    selected = Select(browser.find_element(By.ID, "list_type")).first_selected_option
    assert selected.get_attribute("value") == "SERIOUS_VIOLATION"
    assert console_errors(browser, 200) == []


STATISTICS = """query($from: String, $to: String) { statistics {
  spotChecksByRegion { region { name } failureRate }
  spotChecksByCategory { category failureRate }
  recallsByMonth(fromMonth: $from, toMonth: $to) { month count }
  blacklistListingsByMonth(fromMonth: $from, toMonth: $to) { month count }
} }"""

#: Each chart of the statistics page: its section, the API's field, and a group's name in it.
CHARTS = {
    "by-region": ("spotChecksByRegion", lambda g: g["region"]["name"], "failureRate"),
    "by-category": ("spotChecksByCategory", lambda g: g["category"], "failureRate"),
    "recalls-by-month": ("recallsByMonth", lambda g: g["month"], "count"),
    "listings-by-month": ("blacklistListingsByMonth", lambda g: g["month"], "count"),
}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_statistics_charts_show_the_api_figures_with_their_tables(
    browser: webdriver.Chrome, hub_url: str, language: str
) -> None:
    # given the figures of the API, for the months the page shows by default
    last = last_complete_month(datetime.now(UTC))
    months = {"from": shift(last, -23), "to": last}
    answer = httpx.post(
        f"{hub_url}/graphql", json={"query": STATISTICS, "variables": months}, timeout=30
    ).json()
    assert "errors" not in answer, answer
    # when the reader opens the page
    browser.get_log("browser")
    browser.get(f"{hub_url}/statistics?from_month={months['from']}&to_month={last}&lang={language}")
    # then each chart is drawn, named by its title, and followed by its data table
    for id, (field, name_of, value) in CHARTS.items():
        figures = answer["data"]["statistics"][field]
        section = browser.find_element(By.CSS_SELECTOR, f"section[aria-labelledby='{id}']")
        heading = section.find_element(By.TAG_NAME, "h2").text
        chart = section.find_element(By.CSS_SELECTOR, "svg.chart[role=img]")
        assert chart.get_attribute("aria-labelledby") == f"{id}-chart-title {id}-chart-desc"
        title = section.find_element(By.ID, f"{id}-chart-title")
        assert title.get_attribute("textContent") == heading
        assert chart.size["width"] > 400 and chart.size["height"] > 100
        drawn = {
            bar.get_attribute("data-label"): float(bar.get_attribute("data-value") or "nan")
            for bar in chart.find_elements(By.CSS_SELECTOR, "rect.bar")
        }
        hatched = [
            bar.get_attribute("data-label")
            for bar in chart.find_elements(By.CSS_SELECTOR, "rect.withheld")
        ]
        assert drawn == {name_of(g): g[value] for g in figures if g[value] is not None}
        assert sorted(hatched) == sorted(name_of(g) for g in figures if g[value] is None)
        # the table right after the chart, for screen readers, has every figure
        table = chart.find_element(By.XPATH, "following-sibling::table[1]")
        assert table.find_element(By.TAG_NAME, "caption").text != ""
        headers = table.find_elements(By.CSS_SELECTOR, "tbody th[scope=row]")
        assert [h.text for h in headers] == [name_of(g) for g in _in_chart_order(figures, value)]
    assert console_errors(browser, 200) == []


def _in_chart_order(figures: list[dict[str, Any]], value: str) -> list[dict[str, Any]]:
    """Rates highest first and withheld last, as the page orders them; months as they come."""
    if value != "failureRate":
        return figures
    return sorted(figures, key=lambda g: (g[value] is None, -(g[value] or 0.0)))


def test_the_language_switch_is_remembered(browser: webdriver.Chrome, hub_url: str) -> None:
    browser.get(f"{hub_url}/recalls?lang=zh")
    assert browser.find_element(By.TAG_NAME, "h1").text == "召回"
    browser.find_element(By.CSS_SELECTOR, "a.language").click()
    WebDriverWait(browser, 30).until(
        lambda driver: driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    )
    assert browser.find_element(By.TAG_NAME, "h1").text == "Recalls"
    # the next page, reached by the menu, stays in English
    browser.find_element(By.CSS_SELECTOR, "header nav a[href='/warnings']").click()
    WebDriverWait(browser, 30).until(expected_conditions.url_contains("/warnings"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Consumer warnings"
    assert browser.get_cookie("lang")["value"] == "en"  # type: ignore[index]


def test_graphiql_works_with_no_network(
    browser: webdriver.Chrome, hub_url: str, screenshots: Path
) -> None:
    # the browser resolves no host but 127.0.0.1, so a script from a CDN would fail to load
    browser.get_log("browser")
    browser.get(f"{hub_url}/graphql")
    WebDriverWait(browser, 60).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".graphiql-editor"))
    )
    browser.find_element(By.CSS_SELECTOR, "button.graphiql-execute-button").click()
    result = WebDriverWait(browser, 60).until(
        lambda driver: re.search(
            r'"blacklist"', driver.find_element(By.CSS_SELECTOR, ".result-window").text
        )
    )
    assert result is not None
    screenshot(browser, screenshots / "graphiql.png")
    assert console_errors(browser, 200) == []
