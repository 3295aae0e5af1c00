"""The portal's pages through the real app, on SQLite and PostgreSQL: what each page shows,
that it shows only what an anonymous API caller may read, and how bad input is answered."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.blacklist.models import ListType
from hub.config import Settings
from hub.db import HubSession
from hub.enterprise.models import CreditGrade, Enterprise
from hub.recall.models import RecallStatus
from hub.warning.models import Severity
from search.indexer import reindex
from search.outbox import EMBEDDED
from tests.fixtures.blacklist import make_entry
from tests.fixtures.codes import uscc
from tests.fixtures.credit_file import full_credit_file
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.limits import hub_client, limits, per_day
from tests.fixtures.recall import make_recall
from tests.fixtures.warning import make_warning

ROOT = Path(__file__).resolve().parents[2]
HTML = {"accept": "text/html"}
TODAY = date.today()


def main_of(page: str) -> str:
    """The page's <main> element, where the data is."""
    found = re.search(r"<main id=\"main\"[^>]*>(.*)</main>", page, re.DOTALL)
    assert found is not None, page
    return found.group(1)


async def listed(
    session: HubSession, enterprise: Enterprise, days_ago: int, **overrides: object
) -> None:
    await make_entry(
        session,
        enterprise,
        listed_on=TODAY - timedelta(days=days_ago),
        publicity_ends_on=TODAY + timedelta(days=365),
        **overrides,
    )


# -- the home page --------------------------------------------------------------------------


async def test_the_home_page_replaces_the_redirect_to_graphql(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    # given a listing, a recall and a warning, and an unpublished recall
    enterprise = await make_enterprise(session, name="广州市安心乳业有限公司")
    await listed(session, enterprise, 10, reason="生产销售不合格奶粉")
    await make_recall(session, enterprise, title="安心乳业召回部分奶粉")
    await make_recall(session, enterprise, title="尚未公开的召回", published=False)
    await make_warning(session, title="关于婴幼儿奶粉的消费提示")
    await session.commit()
    # when
    response = await client.get("/")
    # then
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["content-language"] == "zh-CN"
    assert response.headers["x-ratelimit-limit"] == "120"
    body = main_of(response.text)
    assert f'<a href="/enterprises/{enterprise.uscc}">广州市安心乳业有限公司</a>' in body
    assert "生产销售不合格奶粉" in body
    assert "安心乳业召回部分奶粉" in body
    assert "关于婴幼儿奶粉的消费提示" in body
    assert "尚未公开的召回" not in response.text
    assert '<form class="search" role="search" action="/search" method="get">' in body


# -- an enterprise's credit page ------------------------------------------------------------


async def test_the_credit_page_shows_the_public_credit_file(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    # given an enterprise with a full public record, and records the public may not see
    enterprise = await full_credit_file(session)
    await session.commit()
    # when
    response = await client.get(f"/enterprises/{enterprise.uscc}")
    # then
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=60"
    body = main_of(response.text)
    assert "<h1>北京健宝乳业有限公司</h1>" in body
    assert '<span class="badge grade-c">C 级：失信</span>' in body
    assert '<span class="badge alarm">已列入黑名单</span>' in body
    assert "京市监信黑〔2025〕7号" in body
    assert "抽检不合格" in body
    assert "XK13-101-00042" in body
    assert "蛋白质 (GB 10765-2021: 标准要求 ≥1.8 g/100kJ, 实测 1.2 g/100kJ)" in body
    assert "GJCC-2025-77777" in body
    assert "ZH-2025-9999" in body
    assert "健宝婴儿奶粉" in body
    # what an anonymous API caller cannot read is not on the page either
    assert "GJCC-2025-88888" not in body
    assert "京市监信黑〔2024〕1号" not in body


async def test_an_unpublished_enterprise_is_not_found(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    hidden = await make_enterprise(session, name="未公开企业", published=False)
    await session.commit()
    response = await client.get(f"/enterprises/{hidden.uscc}", headers=HTML)
    assert response.status_code == 404
    assert "未公开企业" not in response.text


async def test_an_unknown_uscc_gets_a_404_page(client: httpx.AsyncClient) -> None:
    unknown = uscc("110000", 987654)
    response = await client.get(f"/enterprises/{unknown}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert f"公开记录中没有统一社会信用代码为 {unknown} 的企业。" in main_of(response.text)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("123", "Invalid value for &#39;uscc&#39;: not a valid USCC (The number has an invalid"),
        # a valid code with its check character changed
        ("91110000600037341X", "Invalid value for &#39;uscc&#39;: not a valid USCC"),
    ],
)
async def test_a_malformed_uscc_gets_a_400_page_naming_it(
    client: httpx.AsyncClient, code: str, problem: str
) -> None:
    response = await client.get(f"/enterprises/{code}")
    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"
    assert "<h1>请求有误，无法处理</h1>" in response.text
    assert problem in response.text


# -- the blacklist --------------------------------------------------------------------------


async def test_the_blacklist_filters_by_region_list_type_and_dates(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    # given listings in Guangdong and Shanghai, of both list types, on different days
    shenzhen = await make_enterprise(session, name="深圳市甲电器有限公司", region_code="440300")
    shanghai = await make_enterprise(session, name="上海市乙食品有限公司", region_code="310000")
    guangzhou = await make_enterprise(session, name="广州市丙玩具有限公司", region_code="440100")
    await listed(session, shenzhen, 5)
    await listed(session, shanghai, 6)
    await listed(session, guangzhou, 50, list_type=ListType.SERIOUS_VIOLATION)
    await session.commit()

    async def names(query: str) -> list[str]:
        response = await client.get(f"/blacklist?{query}")
        assert response.status_code == 200, response.text
        return re.findall(r'<a href="/enterprises/\w+">([^<]+)</a>', main_of(response.text))

    # when / then
    assert await names("region=440000") == ["深圳市甲电器有限公司", "广州市丙玩具有限公司"]
    assert await names("list_type=SERIOUS_VIOLATION") == ["广州市丙玩具有限公司"]
    after = (TODAY - timedelta(days=20)).isoformat()
    assert await names(f"region=440000&listed_after={after}") == ["深圳市甲电器有限公司"]
    assert await names(f"listed_before={after}") == ["广州市丙玩具有限公司"]
    # the form shows the filters that are applied, so the link can be shared as it is
    page = (await client.get("/blacklist?region=440000")).text
    assert '<option value="440000" selected>广东省</option>' in page


async def test_the_blacklist_pages_by_cursor(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    # given 21 listings in Hainan: one more than a page
    for n in range(21):
        enterprise = await make_enterprise(
            session, name=f"海南第{n:02d}号企业", region_code="460000"
        )
        await listed(session, enterprise, n + 1)
    await session.commit()
    # when
    first = await client.get("/blacklist?region=460000")
    link = re.search(r'<a rel="next" href="([^"]+)">下一页</a>', first.text)
    assert link is not None
    second = await client.get(link.group(1).replace("&amp;", "&"))
    # then
    first_names = re.findall(r">(海南第\d\d号企业)<", first.text)
    second_names = re.findall(r">(海南第\d\d号企业)<", second.text)
    assert first_names == [f"海南第{n:02d}号企业" for n in range(20)]
    assert second_names == ["海南第20号企业"]
    assert "共 21 条" in first.text
    assert 'rel="next"' not in second.text
    assert '<a href="/blacklist?region=460000">第一页</a>' in second.text


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("listed_after=2025-13-01", "listedAfter"),
        ("region=44", "regionCode"),
        ("list_type=GREYLIST", "listType"),
        ("after=not-a-cursor", "Invalid value for &#39;after&#39;"),
    ],
)
async def test_bad_blacklist_filters_get_a_400_page(
    client: httpx.AsyncClient, query: str, problem: str
) -> None:
    response = await client.get(f"/blacklist?{query}")
    assert response.status_code == 400
    assert problem in main_of(response.text)


# -- recalls and warnings -------------------------------------------------------------------


async def test_recalls_and_warnings_list_what_is_published(
    client: httpx.AsyncClient, session: HubSession
) -> None:
    enterprise = await make_enterprise(session, name="杭州市丁车业有限公司", region_code="330100")
    await make_recall(
        session, enterprise, title="丁车业召回电动自行车", status=RecallStatus.COMPLETED
    )
    await make_recall(session, enterprise, title="丁车业未公开召回", published=False)
    await make_warning(session, title="关于电动自行车的高风险提示", severity=Severity.HIGH)
    await make_warning(session, title="关于玩具的低风险提示", severity=Severity.LOW)
    await session.commit()

    recalls = main_of((await client.get("/recalls?status=COMPLETED")).text)
    assert "<h2>丁车业召回电动自行车</h2>" in recalls
    assert "丁车业未公开召回" not in recalls
    assert "已完成" in recalls

    warnings = main_of((await client.get("/warnings?severity=HIGH")).text)
    assert "<h2>关于电动自行车的高风险提示</h2>" in warnings
    assert "关于玩具的低风险提示" not in warnings


# -- search ---------------------------------------------------------------------------------


async def test_search_shows_highlights_and_facets(
    client: httpx.AsyncClient, session: HubSession, sessionmaker: async_sessionmaker[HubSession]
) -> None:
    # given two enterprises whose names hold the query, indexed
    one = await make_enterprise(session, name="深圳市光明科技有限公司", region_code="440300")
    await make_enterprise(
        session, name="北京光明科技有限公司", region_code="110000", credit_grade=CreditGrade.B
    )
    await session.commit()
    await reindex(sessionmaker, EMBEDDED)
    # when
    response = await client.get("/search", params={"q": "光明科技"})
    # then
    assert response.status_code == 200
    body = main_of(response.text)
    assert f'<a class="title" href="/enterprises/{one.uscc}">深圳市光明科技有限公司</a>' in body
    assert "深圳市<mark>光明科技</mark>有限公司" in body
    assert '<a href="/search?q=%E5%85%89%E6%98%8E%E7%A7%91%E6%8A%80&amp;region=440000">' in body
    # a facet narrows the results, and can be removed again
    narrowed = main_of((await client.get("/search?q=光明科技&region=440000")).text)
    assert "深圳市<mark>光明科技</mark>有限公司" in narrowed
    assert "北京<mark>光明科技</mark>有限公司" not in narrowed
    assert 'aria-current="true"' in narrowed


async def test_facet_counts_from_a_sample_are_marked_as_estimates(
    client: httpx.AsyncClient,
    session: HubSession,
    sessionmaker: async_sessionmaker[HubSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: 40 enterprises matching 光明, indexed
    for n in range(40):
        await make_enterprise(session, name=f"光明{n}号科技有限公司", region_code="440300")
    await session.commit()
    await reindex(sessionmaker, EMBEDDED)
    exact = main_of((await client.get("/search", params={"q": "光明"})).text)
    # when: the embedded backend counts its facets over a sample of one match in four
    monkeypatch.setattr("search.embedded_search._EXACT_READ", 1)
    monkeypatch.setattr("search.embedded_search.LEVELS", 2)
    monkeypatch.setattr("search.embedded_search.FACET_SAMPLE", 5)
    sampled = main_of((await client.get("/search", params={"q": "光明", "lang": "en"})).text)
    # then: counted facets are shown as they are; sampled ones carry ≈ and say why
    assert '<span class="count">40</span>' in exact
    assert "≈" not in exact
    assert re.search(r'<span class="count">≈\d+</span>', sampled)
    assert "≈ Estimated from a uniform sample of the matches." in sampled


async def test_search_without_a_query_shows_the_form(client: httpx.AsyncClient) -> None:
    response = await client.get("/search?q=")
    assert response.status_code == 200
    assert '<input id="q" name="q" type="search" value=""' in response.text
    assert '<section aria-labelledby="found-enterprises">' not in response.text


async def test_a_bad_search_parameter_gets_a_400_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/search?q=奶粉&blacklisted=maybe")
    assert response.status_code == 400
    assert "blacklisted: must be true or false" in response.text


# -- languages ------------------------------------------------------------------------------


async def test_chinese_by_default_and_english_on_request(client: httpx.AsyncClient) -> None:
    chinese = await client.get("/api")
    assert '<html lang="zh-CN">' in chinese.text
    assert "<h1>GraphQL 数据接口</h1>" in chinese.text
    assert '<a class="language" href="/api?lang=en" lang="en" hreflang="en">English</a>' in (
        chinese.text
    )

    by_header = await client.get("/api", headers={"accept-language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert by_header.headers["content-language"] == "en"
    assert '<html lang="en">' in by_header.text
    assert "<h1>The GraphQL API</h1>" in by_header.text
    assert "set-cookie" not in by_header.headers

    prefers_chinese = await client.get("/api", headers={"accept-language": "zh-CN,en;q=0.8"})
    assert prefers_chinese.headers["content-language"] == "zh-CN"


async def test_the_switch_sets_a_cookie_that_later_pages_follow(
    client: httpx.AsyncClient,
) -> None:
    switched = await client.get("/api?lang=en")
    assert "<h1>The GraphQL API</h1>" in switched.text
    assert switched.cookies["lang"] == "en"
    assert switched.headers["cache-control"] == "no-store"
    # httpx keeps the cookie, as a browser does
    later = await client.get("/blacklist")
    assert later.headers["content-language"] == "en"
    assert "<h1>Blacklist</h1>" in later.text
    back = await client.get("/blacklist?lang=zh")
    assert "<h1>黑名单</h1>" in back.text
    assert back.cookies["lang"] == "zh"


# -- the API page, GraphiQL and static files -------------------------------------------------


async def test_the_api_page_works_in_production_and_offers_the_public_sdl(
    sessionmaker: async_sessionmaker[HubSession], tmp_path: Path
) -> None:
    settings = Settings(env="production", signing_key_path=tmp_path / "key.pem")
    async with hub_client(settings, sessionmaker) as client:
        page = await client.get("/api")
        sdl = await client.get("/api/public.graphql")
        graphiql = await client.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert 'href="/graphql"' not in main_of(page.text)
    assert "本服务器已关闭 GraphiQL 和内省查询" in page.text
    assert sdl.status_code == 200
    assert sdl.headers["content-disposition"] == (
        'attachment; filename="quality-credit-hub-public.graphql"'
    )
    assert sdl.text == (ROOT / "schema" / "public.graphql").read_text(encoding="utf-8")
    assert graphiql.status_code != 200


async def test_graphiql_loads_every_script_from_the_hub(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert "unpkg.com" not in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets == [
        "/static/favicon.svg",
        "/static/vendor/react-18.2.0/react.production.min.js",
        "/static/vendor/react-dom-18.2.0/react-dom.production.min.js",
        "/static/vendor/graphiql-3.8.3/graphiql.min.css",
        "/static/vendor/graphiql-plugin-explorer-1.0.2/style.css",
        "/static/vendor/graphiql-3.8.3/graphiql.min.js",
        "/static/vendor/graphiql-plugin-explorer-1.0.2/index.umd.js",
    ]
    for asset in assets:
        response = await client.get(asset)
        on_disk = ROOT / "hub" / "portal" / asset.removeprefix("/")
        assert (response.status_code, response.content) == (200, on_disk.read_bytes())
        if "/vendor/" in asset:
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_an_unknown_path_is_a_404_page_for_browsers_and_json_for_the_rest(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/no/such/page", headers=HTML)
    assert page.status_code == 404
    assert "此地址没有页面。" in page.text
    api = await client.get("/no/such/page")
    assert (api.status_code, api.json()) == (
        404,
        {"errors": [{"message": "Not found.", "extensions": {"code": "NOT_FOUND"}}]},
    )


# -- the rate budget ------------------------------------------------------------------------


async def test_pages_and_the_api_spend_one_budget_per_address(
    sessionmaker: async_sessionmaker[HubSession], tmp_path: Path
) -> None:
    # given a public budget of three requests a day (none comes back while the test runs)
    settings = Settings(
        limits=limits(public=per_day(3)),
        signing_key_path=tmp_path / "key.pem",
    )
    async with hub_client(settings, sessionmaker) as client:
        # when two pages and one API request are made from one address
        home = await client.get("/")
        blacklist = await client.get("/blacklist")
        api = await client.post("/graphql", json={"query": "{ recalls { totalCount } }"})
        # then the fourth, a page, is refused, and so is the API after it
        refused = await client.get("/recalls", headers=HTML)
        api_refused = await client.post("/graphql", json={"query": "{ recalls { totalCount } }"})
    assert [home.status_code, blacklist.status_code, api.status_code] == [200, 200, 200]
    assert [r.headers["x-ratelimit-remaining"] for r in (home, blacklist, api)] == ["2", "1", "0"]
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["cache-control"] == "no-store"
    assert "<h1>请求过于频繁</h1>" in refused.text
    assert api_refused.status_code == 429
