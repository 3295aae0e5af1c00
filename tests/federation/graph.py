"""A small graph of records whose answers cross every subgraph, for the end-to-end tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hub.db import HubSession
from hub.enterprise.models import CreditGrade
from hub.kit.time import today
from hub.licence.models import LicenceStatus
from hub.quality.models import CheckLevel, CheckResult
from hub.recall.models import RecallKind, RecallStatus
from tests.fixtures.blacklist import make_entry, make_removal
from tests.fixtures.complaint import make_complaint
from tests.fixtures.credit import make_evaluation
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.licence import make_licence
from tests.fixtures.quality import make_product, make_spot_check
from tests.fixtures.recall import make_recall
from tests.fixtures.warning import make_warning


@dataclass(frozen=True)
class Keys:
    """Natural keys of the records the test documents ask for."""

    milk: str  # USCC of a graded, blacklisted dairy with licences, checks and a recall
    bikes: str  # USCC of a bicycle maker in Shenzhen
    draft: str  # USCC of an enterprise not yet published
    formula: str  # GTIN of the dairy's failed product
    licence: str  # number of the dairy's revoked licence


async def seed(session: HubSession) -> Keys:
    day = today()
    milk = await make_enterprise(
        session, name="健宝乳业有限公司", credit_grade=CreditGrade.C, region_code="110000"
    )
    bikes = await make_enterprise(
        session,
        name="深圳飞驰电动车有限公司",
        credit_grade=CreditGrade.A,
        region_code="440300",
        industry_code="C37",
        established_on=date(2012, 5, 8),
    )
    draft = await make_enterprise(session, name="草稿企业有限公司", published=False)
    await make_enterprise(session, name="无记录企业有限公司", credit_grade=None)

    at = datetime(2025, 3, 1, 2, tzinfo=UTC)
    await make_evaluation(session, milk, CreditGrade.B, at - timedelta(days=365))
    await make_evaluation(session, milk, CreditGrade.C, at)
    await make_evaluation(session, bikes, CreditGrade.A, at)
    await make_entry(session, milk, listed_on=day - timedelta(days=30), publicity_ends_on=day)
    repaired = await make_entry(
        session,
        milk,
        listed_on=day - timedelta(days=400),
        publicity_ends_on=day + timedelta(days=300),
    )
    await make_removal(session, repaired, day - timedelta(days=10))

    revoked = await make_licence(session, milk, LicenceStatus.REVOKED)
    await make_licence(session, milk, product="婴幼儿配方乳粉")
    await make_licence(session, bikes, product="电动自行车")
    await make_licence(session, draft, product="饮料")

    formula = await make_product(session, milk, name="健宝婴幼儿配方奶粉", brand="健宝")
    yoghurt = await make_product(session, milk, name="健宝酸奶", brand="健宝", gtin=None)
    bike = await make_product(
        session, bikes, name="飞驰电动自行车", brand="飞驰", model="FC-48V", category="电动自行车"
    )
    await make_spot_check(
        session,
        formula,
        CheckResult.FAIL,
        failed=[
            ("蛋白质", "GB 10765-2021", "≥1.8 g/100kJ", "1.2 g/100kJ"),
            ("铅", "GB 2762-2022", "≤0.02 mg/kg", "0.05 mg/kg"),
        ],
    )
    await make_spot_check(session, yoghurt, sampled_on=date(2025, 5, 2))
    await make_spot_check(
        session,
        bike,
        level=CheckLevel.PROVINCIAL,
        region_code="440300",
        sampled_on=date(2025, 6, 9),
    )
    await make_spot_check(session, formula, published=False)

    recall_formula = await make_recall(
        session, milk, formula, kind=RecallKind.ORDERED, started_on=date(2025, 4, 1)
    )
    recall_bike = await make_recall(session, bikes, bike, status=RecallStatus.COMPLETED)
    await make_recall(session, bikes, None, title="关于召回部分充电器的公告")

    await make_warning(session, recalls=[recall_formula, recall_bike], products=[formula, bike])
    await make_warning(session, title="消费提示：夏季饮料选购", recalls=[], products=[yoghurt])
    for _ in range(12):
        await make_complaint(session, enterprise_id=milk.id, product_id=formula.id)

    assert formula.gtin is not None
    return Keys(
        milk=milk.uscc,
        bikes=bikes.uscc,
        draft=draft.uscc,
        formula=formula.gtin,
        licence=revoked.number,
    )
