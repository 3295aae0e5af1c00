"""Types of the quality subgraph."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from hub.auth.principal import Tier
from hub.auth.scopes import COMPLAINTS_READ
from hub.quality.models import CheckLevel as CheckLevelEnum
from hub.quality.models import CheckResult as CheckResultEnum
from hub.quality.models import Product as ProductRow
from hub.quality.models import SpotCheck as SpotCheckRow
from hub.quality.repository import SpotCheckFilter
from schema.access import argument, enum, field, resolver
from schema.context import Context, Info
from schema.convert import from_row
from schema.credit import loaders as credit_loaders
from schema.credit.types import Region
from schema.node import Node, fetches
from schema.pagination import After, Connection, First, connection, request
from schema.quality import loaders

if TYPE_CHECKING:
    from schema.complaints.types import Complaint
    from schema.enterprise import Enterprise
    from schema.recalls.types import Recall

EnterpriseRef = Annotated["Enterprise", strawberry.lazy("schema.enterprise")]
RecallRef = Annotated["Recall", strawberry.lazy("schema.recalls.types")]
ComplaintRef = Annotated["Complaint", strawberry.lazy("schema.complaints.types")]

CheckLevel = enum(
    CheckLevelEnum,
    name="CheckLevel",
    description="Level of the authority that ran a spot check.",
    values={
        CheckLevelEnum.NATIONAL: "National supervisory spot check (国家监督抽查)",
        CheckLevelEnum.PROVINCIAL: "Provincial spot check (省级监督抽查)",
        CheckLevelEnum.MUNICIPAL: "Municipal spot check (市级监督抽查)",
        CheckLevelEnum.INDUSTRY: "Industry spot check (行业抽查)",
    },
)

CheckResult = enum(
    CheckResultEnum,
    name="CheckResult",
    description="Outcome of a spot check.",
    values={
        CheckResultEnum.PASS: "The sample met every tested requirement (合格)",
        CheckResultEnum.FAIL: "The sample failed at least one item (不合格)",
    },
)

ResultArgument = Annotated[CheckResultEnum | None, argument("Only checks with this result.")]


@strawberry.type(description="A test item that a sample failed.")
class FailedItem:
    item: str = field(description="The tested item (检验项目), e.g. 蛋白质.")
    standard: str = field(description="The standard tested against, e.g. GB 19644-2010.")
    required: str = field(description="What the standard requires (标准值).")
    measured: str = field(description="What was measured (实测值).")


@strawberry.type(description="A product in the product quality archive (产品质量档案).")
class Product(Node):
    enterprise_id: strawberry.Private[int]
    gtin: str | None = field(description="GTIN barcode (商品条码), if the product has one.")
    name: str = field(description="Product name.")
    brand: str = field(description="Brand (商标).")
    model: str = field(description="Model or specification (规格型号).")
    category: str = field(description="Product category, e.g. 乳制品.")
    source_agency: str = field(description="Agency the record came from.")
    published_at: datetime | None = field(description="When the record was made public.")

    @classmethod
    def from_row(cls, row: ProductRow) -> Product:
        return from_row(cls, row)

    @resolver(description="The manufacturer.")
    async def enterprise(self, info: Info) -> EnterpriseRef | None:
        from schema.enterprise import Enterprise

        return await Enterprise.load(info.context, self.enterprise_id)

    @resolver(description="Spot checks of this product, newest first.")
    async def spot_checks(
        self, info: Info, first: First = 20, after: After = None, result: ResultArgument = None
    ) -> Connection[SpotCheck]:
        context = info.context
        filter = SpotCheckFilter(result=result)
        page = await context.loader(loaders.spot_checks_by_product).load(
            (self.pk, (request(first, after, 2), filter))
        )
        return connection(
            page,
            SpotCheck.from_row,
            lambda: context.loader(loaders.spot_check_count_by_product).load((self.pk, filter)),
        )

    @resolver(
        description="12365 complaints about this product, newest first.",
        tier=Tier.PARTNER,
        scopes=[COMPLAINTS_READ],
    )
    async def complaints(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[ComplaintRef]:
        from schema.complaints.types import complaints_of_product

        return await complaints_of_product(info.context, self.pk, first, after)

    @resolver(description="Recalls of this product, newest first.")
    async def recalls(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[RecallRef]:
        from schema.recalls.types import recalls_of_product

        return await recalls_of_product(info.context, self.pk, first, after)


@strawberry.type(description="A supervisory spot check (监督抽查) of one product sample.")
class SpotCheck(Node):
    enterprise_id: strawberry.Private[int]
    product_id: strawberry.Private[int]
    region_code: strawberry.Private[str]
    report_number: str = field(description="Number of the inspection report.")
    level: CheckLevelEnum = field(description="Level of the authority that ran the check.")
    sampled_at: date = field(description="Date the sample was taken.")
    result: CheckResultEnum = field(description="Outcome of the check.")
    inspecting_body: str = field(description="The inspection body that tested the sample.")
    source_agency: str = field(description="Agency the record came from.")
    published_at: datetime | None = field(description="When the result was made public.")

    @classmethod
    def from_row(cls, row: SpotCheckRow) -> SpotCheck:
        return from_row(cls, row, sampled_at=row.sampled_on)

    @resolver(description="The sampled product.")
    async def product(self, info: Info) -> Product | None:
        row = await info.context.loader(loaders.product_by_id).load(self.product_id)
        return Product.from_row(row) if row else None

    @resolver(description="The manufacturer of the sample.")
    async def enterprise(self, info: Info) -> EnterpriseRef | None:
        from schema.enterprise import Enterprise

        return await Enterprise.load(info.context, self.enterprise_id)

    @resolver(description="Where the sample was taken.")
    async def region(self, info: Info) -> Region | None:
        row = await info.context.loader(credit_loaders.region_by_code).load(self.region_code)
        return Region(code=row.code, name=row.name) if row else None

    @resolver(description="Items the sample failed; empty for a pass.")
    async def failed_items(self, info: Info) -> list[FailedItem]:
        rows = await info.context.loader(loaders.failed_items).load(self.pk)
        return [
            FailedItem(item=r.item, standard=r.standard, required=r.required, measured=r.measured)
            for r in rows
        ]


@fetches("Product")
async def _product(context: Context, pk: int) -> Product | None:
    row = await context.loader(loaders.product_by_id).load(pk)
    return Product.from_row(row) if row else None


@fetches("SpotCheck")
async def _spot_check(context: Context, pk: int) -> SpotCheck | None:
    row = await context.loader(loaders.spot_check_by_id).load(pk)
    return SpotCheck.from_row(row) if row else None


@strawberry.type
class EnterpriseQuality:
    """Enterprise fields owned by the quality subgraph."""

    pk: strawberry.Private[int]

    @resolver(description="Products of the enterprise in the quality archive, newest first.")
    async def products(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[Product]:
        context = info.context
        page = await context.loader(loaders.products_by_enterprise).load(
            (self.pk, request(first, after, 1))
        )
        return connection(
            page,
            Product.from_row,
            lambda: context.loader(loaders.product_count_by_enterprise).load(self.pk),
        )

    @resolver(description="Spot checks of the enterprise's products, newest first.")
    async def spot_checks(
        self, info: Info, first: First = 20, after: After = None, result: ResultArgument = None
    ) -> Connection[SpotCheck]:
        context = info.context
        filter = SpotCheckFilter(result=result)
        page = await context.loader(loaders.spot_checks_by_enterprise).load(
            (self.pk, (request(first, after, 2), filter))
        )
        return connection(
            page,
            SpotCheck.from_row,
            lambda: context.loader(loaders.spot_check_count_by_enterprise).load((self.pk, filter)),
        )
