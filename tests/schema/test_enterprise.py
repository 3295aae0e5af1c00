"""The credit file of one enterprise, as the README's first example asks for it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx

from hub.db import HubSession
from hub.enterprise.models import CreditGrade
from hub.licence.models import LicenceStatus
from hub.quality.models import CheckResult
from tests.fixtures.blacklist import make_entry
from tests.fixtures.credit import make_evaluation
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.graphql import data
from tests.fixtures.licence import make_licence
from tests.fixtures.quality import make_product, make_spot_check
from tests.fixtures.recall import make_recall

CREDIT_FILE = """
query($uscc: String!) { enterprise(uscc: $uscc) {
  uscc name status region { code name } industry { code name }
  creditGrade
  creditHistory(first: 5) { totalCount nodes { grade score evaluatedAt authority basis } }
  blacklisted blacklistEntries { listType reason legalBasis authority listedAt publicityEndsOn
                                 removedAt removalReason }
  licences(first: 10) { nodes { number product status validFrom validUntil
                                history { status at reason } } }
  spotChecks(first: 10) { nodes { level sampledAt product { name brand gtin } result
                                  failedItems { item standard required measured }
                                  inspectingBody publishedAt } }
  recalls(first: 10) { nodes { noticeNumber title hazard remedy affectedUnits startedOn status } }
  products(first: 10) { nodes { name brand model gtin category } } } }
"""


async def test_whole_credit_file_in_one_request(
    session: HubSession, client: httpx.AsyncClient
) -> None:
    # given
    firm = await make_enterprise(session, region_code="440300", credit_grade=CreditGrade.B)
    await make_evaluation(session, firm, CreditGrade.A, datetime(2023, 5, 1, tzinfo=UTC))
    await make_evaluation(session, firm, CreditGrade.B, datetime(2025, 5, 1, tzinfo=UTC))
    await make_entry(session, firm, listed_on=date(2025, 1, 10), publicity_ends_on=date(2099, 1, 9))
    licence = await make_licence(session, firm, LicenceStatus.SUSPENDED)
    milk = await make_product(session, firm, gtin="6901234567892")
    await make_spot_check(
        session,
        milk,
        CheckResult.FAIL,
        failed=[("蛋白质", "GB 10765-2021", "≥1.8 g/100kJ", "1.2 g/100kJ")],
    )
    recall = await make_recall(
        session, firm, milk, notice_number="ZH-2025-0042", affected_units=300
    )

    # when
    answer = await data(client, CREDIT_FILE, {"uscc": firm.uscc})

    # then
    got = answer["enterprise"]
    assert got["uscc"] == firm.uscc
    assert got["region"] == {"code": "440300", "name": "深圳市"}
    assert got["industry"] == {"code": "C14", "name": "食品制造业"}
    assert got["creditGrade"] == "B"
    assert got["creditHistory"] == {
        "totalCount": 2,
        "nodes": [
            {
                "grade": "B",
                "score": 81.0,
                "evaluatedAt": "2025-05-01T00:00:00+00:00",
                "authority": "北京市市场监督管理局",
                "basis": "年度质量信用评价",
            },
            {
                "grade": "A",
                "score": 92.5,
                "evaluatedAt": "2023-05-01T00:00:00+00:00",
                "authority": "北京市市场监督管理局",
                "basis": "年度质量信用评价",
            },
        ],
    }
    assert got["blacklisted"] is True
    assert got["blacklistEntries"] == [
        {
            "listType": "QUALITY_BLACKLIST",
            "reason": "生产销售不合格产品，情节严重",
            "legalBasis": "《中华人民共和国产品质量法》第四十九条",
            "authority": "国家市场监督管理总局",
            "listedAt": "2025-01-10",
            "publicityEndsOn": "2099-01-09",
            "removedAt": None,
            "removalReason": None,
        }
    ]
    assert got["licences"]["nodes"] == [
        {
            "number": licence.number,
            "product": "乳制品",
            "status": "SUSPENDED",
            "validFrom": "2022-03-01",
            "validUntil": "2027-02-28",
            "history": [
                {"status": "VALID", "at": "2022-03-01T02:00:00+00:00", "reason": "发证"},
                {
                    "status": "SUSPENDED",
                    "at": "2024-06-01T02:00:00+00:00",
                    "reason": "监督检查发现问题",
                },
            ],
        }
    ]
    assert got["spotChecks"]["nodes"] == [
        {
            "level": "NATIONAL",
            "sampledAt": "2025-03-15",
            "product": {"name": milk.name, "brand": "健宝", "gtin": "6901234567892"},
            "result": "FAIL",
            "failedItems": [
                {
                    "item": "蛋白质",
                    "standard": "GB 10765-2021",
                    "required": "≥1.8 g/100kJ",
                    "measured": "1.2 g/100kJ",
                }
            ],
            "inspectingBody": "国家食品质量检验检测中心",
            "publishedAt": "2024-01-02T03:04:05+00:00",
        }
    ]
    assert got["recalls"]["nodes"] == [
        {
            "noticeNumber": "ZH-2025-0042",
            "title": recall.title,
            "hazard": "电池过热，可能引发火灾",
            "remedy": "免费更换电池",
            "affectedUnits": 300,
            "startedOn": "2025-07-01",
            "status": "ONGOING",
        }
    ]
    assert got["products"]["nodes"] == [
        {
            "name": milk.name,
            "brand": "健宝",
            "model": "900g/罐",
            "gtin": "6901234567892",
            "category": "乳制品",
        }
    ]


async def test_unknown_enterprise_is_null_not_an_error(client: httpx.AsyncClient) -> None:
    answer = await data(client, '{ enterprise(uscc: "91110000600037341L") { name } }')
    assert answer == {"enterprise": None}


async def test_usccs_are_matched_case_insensitively(
    session: HubSession, client: httpx.AsyncClient
) -> None:
    firm = await make_enterprise(session)
    answer = await data(
        client, "query($u: String!) { enterprise(uscc: $u) { uscc } }", {"u": firm.uscc.lower()}
    )
    assert answer == {"enterprise": {"uscc": firm.uscc}}


async def test_unpublished_enterprise_is_invisible(
    session: HubSession, client: httpx.AsyncClient
) -> None:
    firm = await make_enterprise(session, published=False)
    answer = await data(
        client, "query($u: String!) { enterprise(uscc: $u) { uscc } }", {"u": firm.uscc}
    )
    assert answer == {"enterprise": None}
