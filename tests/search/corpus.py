"""A fixed corpus for relevance tests: names chosen so each ordering is decided by one rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hub.db import HubSession
from hub.enterprise.models import CreditGrade, Enterprise
from hub.licence.models import Licence, LicenceStatus
from hub.quality.models import Product
from hub.recall.models import Recall, RecallStatus
from hub.warning.models import ConsumerWarning, Severity
from tests.fixtures.blacklist import make_entry
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.licence import make_licence
from tests.fixtures.quality import make_product
from tests.fixtures.recall import make_recall
from tests.fixtures.warning import make_warning


@dataclass
class Corpus:
    enterprises: dict[str, Enterprise]
    products: dict[str, Product]
    licences: dict[str, Licence]
    recalls: dict[str, Recall]
    warnings: dict[str, ConsumerWarning]

    def names(self, ids: list[int]) -> list[str]:
        by_id = {e.id: key for key, e in self.enterprises.items()}
        return [by_id[i] for i in ids]


async def make_corpus(session: HubSession) -> Corpus:
    e: dict[str, Enterprise] = {}

    async def enterprise(
        key: str,
        name: str,
        region: str,
        grade: CreditGrade | None,
        industry: str = "C39",
        **extra: object,
    ) -> Enterprise:
        e[key] = await make_enterprise(
            session,
            name=name,
            region_code=region,
            credit_grade=grade,
            industry_code=industry,
            **extra,
        )
        return e[key]

    await enterprise("huawei", "华为技术有限公司", "440300", CreditGrade.A)
    await enterprise("terminal", "深圳市华为终端有限公司", "440300", CreditGrade.B)
    await enterprise("marine", "华为海洋网络有限公司", "120000", CreditGrade.A)
    await enterprise("huafeng", "华丰为民食品有限公司", "110000", CreditGrade.A, "C14")
    await enterprise("trader", "北京数码贸易有限公司", "110000", CreditGrade.C)
    await enterprise("tcl", "TCL科技集团股份有限公司", "440000", CreditGrade.A)
    await enterprise("3m", "3M中国有限公司", "310000", CreditGrade.B, "C26")
    await enterprise("petro", "中国石油天然气股份有限公司", "110000", CreditGrade.A, "C26")
    await enterprise("shandong", "山东石油化工设备有限公司", "370000", None, "C34")
    await enterprise("draft", "华为草稿有限公司", "440300", CreditGrade.A, published=False)

    products = {
        "phone": await make_product(session, e["huawei"], name="智能手机", brand="华为"),
        "tablet": await make_product(session, e["trader"], name="平板电脑", brand="华为"),
        "draft": await make_product(
            session, e["3m"], name="防护口罩", brand="华为", published=False
        ),
    }
    far = date(2099, 12, 31)
    licences = {
        "huawei": await make_licence(session, e["huawei"], valid_until=far),
        "marine": await make_licence(session, e["marine"], valid_until=far),
        "terminal": await make_licence(
            session, e["terminal"], LicenceStatus.REVOKED, valid_until=far
        ),
    }
    await make_entry(session, e["marine"], date(2025, 1, 1), far)

    recalls = {
        "bike": await make_recall(
            session,
            e["tcl"],
            title="关于召回部分电动自行车的公告",
            product_name="电动自行车",
            category="电动自行车",
            hazard="电池过热，可能引发火灾",
            started_on=date(2025, 7, 1),
        ),
        "charger": await make_recall(
            session,
            e["huawei"],
            title="华为技术有限公司召回部分充电器",
            product_name="充电器",
            category="电子产品",
            hazard="充电时过热",
            started_on=date(2025, 8, 1),
        ),
        "toy": await make_recall(
            session,
            e["3m"],
            title="儿童玩具召回",
            product_name="积木",
            category="玩具",
            hazard="小零件可能导致窒息",
            status=RecallStatus.COMPLETED,
            started_on=date(2025, 5, 1),
        ),
    }
    warnings = {
        "bike": await make_warning(
            session,
            title="消费提示：谨慎选购电动自行车",
            category="电动自行车",
            hazard="部分电动自行车电池存在起火风险",
            advice="请勿在室内充电",
            severity=Severity.HIGH,
            issued_on=date(2025, 8, 1),
            products=[products["phone"]],
        ),
        "toy": await make_warning(
            session,
            title="警惕儿童玩具小零件",
            category="玩具",
            hazard="窒息风险",
            advice="选购适龄玩具",
            severity=Severity.MEDIUM,
            issued_on=date(2025, 9, 1),
        ),
    }
    return Corpus(e, products, licences, recalls, warnings)
