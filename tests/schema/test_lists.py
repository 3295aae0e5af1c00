"""Root lists: filters, order, keyset pagination and counts."""

from __future__ import annotations

from datetime import date

import httpx

from hub.db import HubSession
from hub.enterprise.models import CreditGrade
from hub.licence.models import LicenceStatus
from hub.quality.models import CheckLevel, CheckResult
from tests.fixtures.blacklist import make_entry
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.graphql import data, error
from tests.fixtures.licence import make_licence
from tests.fixtures.quality import make_product, make_spot_check
from tests.fixtures.recall import make_recall
from tests.fixtures.warning import make_warning


async def test_enterprises_filtered_by_province_and_grade(
    session: HubSession, client: httpx.AsyncClient
) -> None:
    shenzhen_d = await make_enterprise(
        session, region_code="440300", credit_grade=CreditGrade.D, established_on=date(2010, 1, 1)
    )
    guangdong_d = await make_enterprise(
        session, region_code="440000", credit_grade=CreditGrade.D, established_on=date(2012, 1, 1)
    )
    await make_enterprise(session, region_code="440300", credit_grade=CreditGrade.A)
    await make_enterprise(session, region_code="310000", credit_grade=CreditGrade.D)

    answer = await data(
        client,
        """{ enterprises(filter: { regionCode: "440000", creditGrade: D }, first: 20) {
               totalCount pageInfo { hasNextPage } nodes { uscc } } }""",
    )

    assert answer["enterprises"] == {
        "totalCount": 2,
        "pageInfo": {"hasNextPage": False},
        "nodes": [{"uscc": guangdong_d.uscc}, {"uscc": shenzhen_d.uscc}],
    }


async def test_paging_through_every_enterprise_by_cursor(
    session: HubSession, client: httpx.AsyncClient
) -> None:
    # given: ties on the sort key, so the cursor must break them by id
    made = [
        await make_enterprise(
            session, region_code="320500", established_on=date(2020, 1, i % 3 + 1)
        )
        for i in range(7)
    ]
    expected = [e.uscc for e in sorted(made, key=lambda e: (e.established_on, e.id), reverse=True)]
    query = """query($after: String) {
        enterprises(filter: { regionCode: "320500" }, first: 3, after: $after) {
            totalCount edges { cursor node { uscc } }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""

    # when
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await data(client, query, {"after": after}))["enterprises"]
        pages += 1
        assert page["totalCount"] == 7
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        seen += [edge["node"]["uscc"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    # then
    assert pages == 3
    assert seen == expected


async def test_enterprises_ordered_by_name(session: HubSession, client: httpx.AsyncClient) -> None:
    for name in ("乙公司", "甲公司", "丙公司"):
        await make_enterprise(session, name=name, region_code="350200")
    answer = await data(
        client,
        '{ enterprises(filter: {regionCode: "350200"}, order: NAME) { nodes { name } } }',
    )
    assert [n["name"] for n in answer["enterprises"]["nodes"]] == sorted(
        ["乙公司", "甲公司", "丙公司"]
    )


async def test_blacklisted_filter(session: HubSession, client: httpx.AsyncClient) -> None:
    listed = await make_enterprise(session, region_code="330100")
    clean = await make_enterprise(session, region_code="330100")
    await make_entry(
        session, listed, listed_on=date(2025, 1, 1), publicity_ends_on=date(2099, 1, 1)
    )
    query = """query($b: Boolean) { enterprises(filter: {regionCode: "330100", blacklisted: $b}) {
        nodes { uscc blacklisted } } }"""
    assert (await data(client, query, {"b": True}))["enterprises"]["nodes"] == [
        {"uscc": listed.uscc, "blacklisted": True}
    ]
    assert (await data(client, query, {"b": False}))["enterprises"]["nodes"] == [
        {"uscc": clean.uscc, "blacklisted": False}
    ]


async def test_blacklist_by_region_and_listing_date(
    session: HubSession, client: httpx.AsyncClient
) -> None:
    shanghai = await make_enterprise(session, region_code="310000", name="上海某某有限公司")
    beijing = await make_enterprise(session, region_code="110000")
    recent = await make_entry(
        session, shanghai, listed_on=date(2025, 3, 1), publicity_ends_on=date(2099, 1, 1)
    )
    await make_entry(
        session, shanghai, listed_on=date(2024, 3, 1), publicity_ends_on=date(2099, 1, 1)
    )
    await make_entry(
        session, beijing, listed_on=date(2025, 3, 1), publicity_ends_on=date(2099, 1, 1)
    )

    answer = await data(
        client,
        """{ blacklist(filter: { regionCode: "310000", listedAfter: "2025-01-01" }, first: 50) {
               totalCount nodes { decisionNumber enterprise { uscc name } reason listedAt } } }""",
    )

    assert answer["blacklist"] == {
        "totalCount": 1,
        "nodes": [
            {
                "decisionNumber": recent.decision_number,
                "enterprise": {"uscc": shanghai.uscc, "name": "上海某某有限公司"},
                "reason": "生产销售不合格产品，情节严重",
                "listedAt": "2025-03-01",
            }
        ],
    }


async def test_licence_by_number_and_revoked_licences(
    session: HubSession, client: httpx.AsyncClient
) -> None:
    firm = await make_enterprise(session, name="某某电缆有限公司")
    await make_licence(session, firm, number="XK16-108-00001")
    revoked = await make_licence(session, firm, LicenceStatus.REVOKED)

    one = await data(client, '{ licence(number: "xk16-108-00001") { status enterprise { name } } }')
    assert one == {"licence": {"status": "VALID", "enterprise": {"name": "某某电缆有限公司"}}}

    listed = await data(client, "{ licences(filter: { status: REVOKED }) { nodes { number } } }")
    assert listed == {"licences": {"nodes": [{"number": revoked.number}]}}


async def test_failed_national_spot_checks(session: HubSession, client: httpx.AsyncClient) -> None:
    firm = await make_enterprise(session, name="某某乳业有限公司")
    milk = await make_product(session, firm, name="全脂奶粉")
    failed = await make_spot_check(
        session, milk, CheckResult.FAIL, failed=[("菌落总数", "GB 19644-2010", "≤50000", "120000")]
    )
    await make_spot_check(session, milk, CheckResult.FAIL, level=CheckLevel.PROVINCIAL)
    await make_spot_check(session, milk, CheckResult.PASS)

    answer = await data(
        client,
        """{ spotChecks(filter: { result: FAIL, level: NATIONAL }, first: 20) {
               nodes { reportNumber product { name } enterprise { name }
                       failedItems { item } } } }""",
    )
    assert answer["spotChecks"]["nodes"] == [
        {
            "reportNumber": failed.report_number,
            "product": {"name": "全脂奶粉"},
            "enterprise": {"name": "某某乳业有限公司"},
            "failedItems": [{"item": "菌落总数"}],
        }
    ]


async def test_product_by_gtin_with_checks_and_recalls(
    session: HubSession, client: httpx.AsyncClient
) -> None:
    firm = await make_enterprise(session)
    milk = await make_product(session, firm, gtin="6901234567892", name="幼儿奶粉")
    await make_spot_check(session, milk, CheckResult.FAIL, sampled_on=date(2025, 2, 1))
    await make_spot_check(session, milk, CheckResult.PASS, sampled_on=date(2025, 4, 1))
    recall = await make_recall(session, firm, milk)

    answer = await data(
        client,
        """{ product(gtin: "6901234567892") { name
               spotChecks(first: 5) { totalCount nodes { result sampledAt } }
               recalls(first: 5) { totalCount nodes { title } } } }""",
    )
    assert answer["product"] == {
        "name": "幼儿奶粉",
        "spotChecks": {
            "totalCount": 2,
            "nodes": [
                {"result": "PASS", "sampledAt": "2025-04-01"},
                {"result": "FAIL", "sampledAt": "2025-02-01"},
            ],
        },
        "recalls": {"totalCount": 1, "nodes": [{"title": recall.title}]},
    }


async def test_recalls_started_after_a_date(session: HubSession, client: httpx.AsyncClient) -> None:
    firm = await make_enterprise(session, name="某某车业有限公司")
    june = await make_recall(session, firm, started_on=date(2025, 6, 1))
    august = await make_recall(session, firm, started_on=date(2025, 8, 15))
    await make_recall(session, firm, started_on=date(2025, 5, 31))

    answer = await data(
        client,
        """{ recalls(filter: { startedAfter: "2025-06-01" }, first: 20) {
               nodes { title enterprise { name } } } }""",
    )
    assert answer["recalls"]["nodes"] == [
        {"title": august.title, "enterprise": {"name": "某某车业有限公司"}},
        {"title": june.title, "enterprise": {"name": "某某车业有限公司"}},
    ]


async def test_consumer_warnings_with_related_recalls(
    session: HubSession, client: httpx.AsyncClient
) -> None:
    firm = await make_enterprise(session)
    older = await make_recall(session, firm, started_on=date(2025, 7, 1))
    newer = await make_recall(session, firm, started_on=date(2025, 7, 20))
    hidden = await make_recall(session, firm, published=False)
    warning = await make_warning(session, recalls=[older, newer, hidden])

    answer = await data(
        client,
        """{ consumerWarnings(first: 20) { nodes { title hazard advice severity issuedOn
               relatedRecalls { title } } } }""",
    )
    assert answer["consumerWarnings"]["nodes"] == [
        {
            "title": warning.title,
            "hazard": "部分电动自行车电池存在起火风险",
            "advice": "请勿在室内充电",
            "severity": "HIGH",
            "issuedOn": "2025-08-01",
            "relatedRecalls": [{"title": newer.title}, {"title": older.title}],
        }
    ]


async def test_first_over_one_hundred_is_refused(client: httpx.AsyncClient) -> None:
    got = await error(client, "{ enterprises(first: 101) { nodes { uscc } } }")
    assert got["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "first",
        "reason": "must be between 0 and 100, got 101",
    }


async def test_nested_first_is_checked_too(session: HubSession, client: httpx.AsyncClient) -> None:
    firm = await make_enterprise(session)
    got = await error(
        client,
        """query($u: String!) { enterprise(uscc: $u) {
               licences(first: 1000) { nodes { number } } } }""",
        {"u": firm.uscc},
    )
    assert got["extensions"]["code"] == "BAD_USER_INPUT"
    assert got["extensions"]["argument"] == "first"
    assert got["path"] == ["enterprise", "licences"]


async def test_a_forged_cursor_is_bad_input(client: httpx.AsyncClient) -> None:
    for cursor in ("not-a-cursor", "WzFd", "W3sieCI6IDF9LCAxXQ"):
        got = await error(
            client,
            "query($a: String) { enterprises(after: $a) { nodes { uscc } } }",
            {"a": cursor},
        )
        assert got["extensions"]["code"] == "BAD_USER_INPUT", cursor
        assert got["extensions"]["argument"] == "after"
