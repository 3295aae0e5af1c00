"""12365 complaints in each tier: whole and audited, de-identified, or counted and suppressed."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.auth.audit import AuditRecord
from hub.db import HubSession
from tests.fixtures.complaint import make_complaint
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.principals import INTERNAL, PARTNER, PARTNER_WITHOUT_SCOPES, PUBLIC, run_as
from tests.fixtures.quality import make_product

LIST = """{ complaints(first: 5) { totalCount nodes { number channel status productCategory
    region { code } enterprise { name } product { name } } } }"""

PERSONAL = """{ complaints(first: 5) { nodes { number summary complainantName complainantPhone
    complainantIdNumber complainantAddress } } }"""


async def test_internal_reads_complainants_and_is_audited(
    session: HubSession, sessionmaker: async_sessionmaker[HubSession]
) -> None:
    complaint = await make_complaint(session)
    await session.commit()

    answer = await run_as(INTERNAL, sessionmaker, PERSONAL)

    assert answer == {
        "data": {
            "complaints": {
                "nodes": [
                    {
                        "number": complaint.number,
                        "summary": "奶粉开罐后有异味，孩子食用后腹泻",
                        "complainantName": "李娜",
                        "complainantPhone": "13812345678",
                        "complainantIdNumber": "440304199001011234",
                        "complainantAddress": "广东省深圳市福田区某街道某小区",
                    }
                ]
            }
        }
    }
    audited = (await session.scalars(select(AuditRecord))).all()
    assert [(a.record_type, a.record_id, a.fields) for a in audited] == [
        (
            "Complaint",
            complaint.id,
            [
                "complainantAddress",
                "complainantIdNumber",
                "complainantName",
                "complainantPhone",
                "summary",
            ],
        )
    ]


async def test_partner_sees_de_identified_records(
    session: HubSession, sessionmaker: async_sessionmaker[HubSession]
) -> None:
    firm = await make_enterprise(session, name="某某乳业有限公司")
    milk = await make_product(session, firm, name="婴儿奶粉")
    complaint = await make_complaint(session, enterprise_id=firm.id, product_id=milk.id)
    await session.commit()

    listed = await run_as(PARTNER, sessionmaker, LIST)
    personal = await run_as(PARTNER, sessionmaker, PERSONAL)

    assert listed == {
        "data": {
            "complaints": {
                "totalCount": 1,
                "nodes": [
                    {
                        "number": complaint.number,
                        "channel": "HOTLINE",
                        "status": "HANDLING",
                        "productCategory": "乳制品",
                        "region": {"code": "440300"},
                        "enterprise": {"name": "某某乳业有限公司"},
                        "product": {"name": "婴儿奶粉"},
                    }
                ],
            }
        }
    }
    assert personal["data"] is None
    assert {e["extensions"]["code"] for e in personal["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}
    assert "李娜" not in str(personal) and "1381234" not in str(personal)


async def test_partner_without_the_scope_gets_nothing(
    session: HubSession, sessionmaker: async_sessionmaker[HubSession]
) -> None:
    complaint = await make_complaint(session)
    await session.commit()
    global_id = base64.urlsafe_b64encode(f"Complaint:{complaint.id}".encode()).decode().rstrip("=")

    listed = await run_as(PARTNER_WITHOUT_SCOPES, sessionmaker, LIST)
    by_id = await run_as(
        PARTNER_WITHOUT_SCOPES,
        sessionmaker,
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": global_id},
    )
    allowed = await run_as(
        PARTNER, sessionmaker, "query($id: ID!) { node(id: $id) { id } }", {"id": global_id}
    )

    assert listed["data"] is None
    assert [e["extensions"]["code"] for e in listed["errors"]] == ["FORBIDDEN"]
    assert by_id == {"data": {"node": None}}
    assert allowed == {"data": {"node": {"id": global_id}}}


async def test_public_sees_only_the_suppressed_table(
    session: HubSession, sessionmaker: async_sessionmaker[HubSession]
) -> None:
    # given: 12 dairy complaints in Shenzhen, 3 in Guangzhou (April), 10 toys in Shanghai;
    # one dairy complaint received at 20:00 UTC on 30 April is 1 May in Shanghai time
    for _ in range(11):
        await make_complaint(session)
    await make_complaint(session, received_at=datetime(2025, 4, 30, 20, tzinfo=UTC))
    for _ in range(3):
        await make_complaint(session, region_code="440100")
    for _ in range(10):
        await make_complaint(session, region_code="310000", product_category="儿童玩具")
    await session.commit()

    by_region = await run_as(
        PUBLIC,
        sessionmaker,
        """{ complaintStatistics(groupBy: [REGION]) {
               region { code name } count suppressed withheldCells } }""",
    )
    by_category_month = await run_as(
        PUBLIC,
        sessionmaker,
        """{ complaintStatistics(groupBy: [CATEGORY, MONTH], filter: { regionCode: "440000" }) {
               category month count suppressed withheldCells } }""",
    )
    records = await run_as(PUBLIC, sessionmaker, "{ complaints { totalCount } }")
    exact = await run_as(PUBLIC, sessionmaker, "{ complaintCounts { count } }")

    # then: Guangdong's May cell (1) is withheld, and so is its April cell (14), which shares
    # its line: April's 14 and Guangdong's total 15 would give the 1 away
    assert by_region == {
        "data": {
            "complaintStatistics": [
                {
                    "region": {"code": "310000", "name": "上海市"},
                    "count": 10,
                    "suppressed": False,
                    "withheldCells": 0,
                },
                {
                    "region": {"code": "440000", "name": "广东省"},
                    "count": None,
                    "suppressed": True,
                    "withheldCells": 2,
                },
            ]
        }
    }
    assert by_category_month == {
        "data": {
            "complaintStatistics": [
                {
                    "category": "乳制品",
                    "month": "2025-04",
                    "count": None,
                    "suppressed": True,
                    "withheldCells": 1,
                },
                {
                    "category": "乳制品",
                    "month": "2025-05",
                    "count": None,
                    "suppressed": True,
                    "withheldCells": 1,
                },
            ]
        }
    }
    assert records["data"] is None
    assert records["errors"][0]["message"] == "Cannot query field 'complaints' on type 'Query'."
    assert exact["data"] is None
    assert exact["errors"][0]["message"] == "Cannot query field 'complaintCounts' on type 'Query'."


async def test_partners_with_the_scope_count_exactly(
    session: HubSession, sessionmaker: async_sessionmaker[HubSession]
) -> None:
    # given: 3 complaints in Guangzhou, one of them a second later than the others
    await make_complaint(session, region_code="440100")
    await make_complaint(session, region_code="440100")
    await make_complaint(
        session, region_code="440100", received_at=datetime(2025, 4, 10, 2, 0, 1, tzinfo=UTC)
    )
    await make_complaint(session)
    await session.commit()
    document = """{ complaintCounts(groupBy: [REGION, MONTH], filter: {
        regionCode: "440100", receivedAfter: "2025-04-10T02:00:01Z" }) {
        region { code } month count suppressed withheldCells } }"""

    exact = await run_as(PARTNER, sessionmaker, document)
    total = await run_as(PARTNER, sessionmaker, "{ complaintCounts { count } }")
    bare = await run_as(PARTNER_WITHOUT_SCOPES, sessionmaker, document)

    assert exact == {
        "data": {
            "complaintCounts": [
                {
                    "region": {"code": "440000"},
                    "month": "2025-04",
                    "count": 1,
                    "suppressed": False,
                    "withheldCells": 0,
                }
            ]
        }
    }
    assert total == {"data": {"complaintCounts": [{"count": 4}]}}
    assert bare["data"] is None
    assert [e["extensions"]["code"] for e in bare["errors"]] == ["FORBIDDEN"]
