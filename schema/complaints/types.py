"""Types of 12365 complaints.

Partners holding ``complaints:read`` see de-identified records: what was complained about,
where, when and how it is handled. Who complained, and the complaint in their own words, are
internal fields: absent from the partner schema, audited on every internal read.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from hub.auth.principal import Tier
from hub.auth.scopes import COMPLAINTS_READ
from hub.complaint.models import Complaint as ComplaintRow
from hub.complaint.models import ComplaintChannel as ComplaintChannelEnum
from hub.complaint.models import ComplaintStatus as ComplaintStatusEnum
from hub.complaint.repository import ComplaintDimension
from schema.access import Access, enum, field, resolver
from schema.complaints import loaders
from schema.context import Context, Info
from schema.convert import from_row
from schema.credit import loaders as credit_loaders
from schema.credit.types import Region
from schema.node import Node, fetches
from schema.pagination import After, Connection, First, connection, request
from schema.quality import loaders as quality_loaders
from schema.quality.types import Product

if TYPE_CHECKING:
    from schema.enterprise import Enterprise

EnterpriseRef = Annotated["Enterprise", strawberry.lazy("schema.enterprise")]

COMPLAINTS_SCOPE = COMPLAINTS_READ
COMPLAINT_ACCESS = Access(tier=Tier.PARTNER, scopes=frozenset({COMPLAINTS_SCOPE}))

ComplaintChannel = enum(
    ComplaintChannelEnum,
    name="ComplaintChannel",
    description="How a complaint reached the 12365 platform.",
    values={
        ComplaintChannelEnum.HOTLINE: "12365 hotline (电话)",
        ComplaintChannelEnum.WEB: "12365 website (网站)",
        ComplaintChannelEnum.APP: "12365 app or mini-program (移动端)",
        ComplaintChannelEnum.LETTER: "Letter or visit (来信来访)",
    },
)

ComplaintStatus = enum(
    ComplaintStatusEnum,
    name="ComplaintStatus",
    description="Handling status of a complaint.",
    values={
        ComplaintStatusEnum.RECEIVED: "Received, not yet assigned (已受理)",
        ComplaintStatusEnum.HANDLING: "Being handled (处理中)",
        ComplaintStatusEnum.CLOSED: "Closed (已办结)",
    },
)

Dimension = enum(
    ComplaintDimension,
    name="ComplaintDimension",
    description="What complaint statistics are grouped by.",
    values={
        ComplaintDimension.REGION: "Province of the complaint (省级行政区)",
        ComplaintDimension.CATEGORY: "Product category",
        ComplaintDimension.MONTH: "Month of receipt, Asia/Shanghai",
    },
)


def _audited(info: Info, pk: int, field_name: str, value: str | None) -> str | None:
    if value is not None:
        info.context.read_personal("Complaint", pk, field_name)
    return value


@strawberry.type(description="A 12365 complaint or report (举报投诉).")
class Complaint(Node):
    region_code: strawberry.Private[str]
    enterprise_id: strawberry.Private[int | None]
    product_id: strawberry.Private[int | None]
    text: strawberry.Private[str]
    person_name: strawberry.Private[str]
    person_phone: strawberry.Private[str]
    person_id_number: strawberry.Private[str | None]
    person_address: strawberry.Private[str | None]
    number: str = field(description="Number of the complaint on the 12365 platform.")
    received_at: datetime = field(description="When the complaint was received.")
    channel: ComplaintChannelEnum = field(description="How it was received.")
    status: ComplaintStatusEnum = field(description="Handling status.")
    product_category: str = field(description="Category of the product complained about.")
    handling_agency: str = field(description="Agency handling the complaint.")

    @classmethod
    def from_row(cls, row: ComplaintRow) -> Complaint:
        return from_row(
            cls,
            row,
            text=row.summary,
            person_name=row.complainant_name,
            person_phone=row.complainant_phone,
            person_id_number=row.complainant_id_number,
            person_address=row.complainant_address,
        )

    @resolver(description="Where the complaint was made.")
    async def region(self, info: Info) -> Region | None:
        row = await info.context.loader(credit_loaders.region_by_code).load(self.region_code)
        return Region(code=row.code, name=row.name) if row else None

    @resolver(description="The enterprise complained about, where known.")
    async def enterprise(self, info: Info) -> EnterpriseRef | None:
        from schema.enterprise import Enterprise

        if self.enterprise_id is None:
            return None
        return await Enterprise.load(info.context, self.enterprise_id)

    @resolver(description="The product complained about, where it is in the quality archive.")
    async def product(self, info: Info) -> Product | None:
        if self.product_id is None:
            return None
        row = await info.context.loader(quality_loaders.product_by_id).load(self.product_id)
        return Product.from_row(row) if row else None

    @resolver(description="The complaint in the complainant's words. Audited.", tier=Tier.INTERNAL)
    def summary(self, info: Info) -> str:
        return _audited(info, self.pk, "summary", self.text) or ""

    @resolver(description="Name of the complainant. Audited.", tier=Tier.INTERNAL)
    def complainant_name(self, info: Info) -> str:
        return _audited(info, self.pk, "complainantName", self.person_name) or ""

    @resolver(description="Phone number of the complainant. Audited.", tier=Tier.INTERNAL)
    def complainant_phone(self, info: Info) -> str:
        return _audited(info, self.pk, "complainantPhone", self.person_phone) or ""

    @resolver(description="ID card number of the complainant. Audited.", tier=Tier.INTERNAL)
    def complainant_id_number(self, info: Info) -> str | None:
        return _audited(info, self.pk, "complainantIdNumber", self.person_id_number)

    @resolver(description="Address of the complainant. Audited.", tier=Tier.INTERNAL)
    def complainant_address(self, info: Info) -> str | None:
        return _audited(info, self.pk, "complainantAddress", self.person_address)


@fetches("Complaint", COMPLAINT_ACCESS)
async def _complaint(context: Context, pk: int) -> Complaint | None:
    row = await context.loader(loaders.complaint_by_id).load(pk)
    return Complaint.from_row(row) if row else None


@strawberry.type(
    description="The complaints of one group: a cell of the published table (grouped by "
    "month, region and category) or a sum of cells. A withheld cell counts in no group, and "
    "each group says how many cells it leaves out; exact counts leave out none."
)
class ComplaintCount:
    region: Region | None = field(description="Province, when grouped by region.")
    category: str | None = field(description="Product category, when grouped by category.")
    month: str | None = field(description="Month as YYYY-MM, when grouped by month.")
    count: int | None = field(
        description="Number of complaints in the group's published cells; null when every "
        "cell of the group is withheld."
    )
    suppressed: bool = field(
        description="Whether any cell of the group is withheld, so that count leaves it out."
    )
    withheld_cells: int = field(
        description="How many cells of the group are withheld: cells, not complaints, since "
        "the number of complaints left out would give them away."
    )


async def complaints_of_product(
    context: Context, product_id: int, first: int | None, after: str | None
) -> Connection[Complaint]:
    page = await context.loader(loaders.complaints_by_product).load(
        (product_id, request(first, after, 2))
    )
    return connection(
        page,
        Complaint.from_row,
        lambda: context.loader(loaders.complaint_count_by_product).load(product_id),
    )


@strawberry.type
class EnterpriseComplaints:
    """Enterprise fields about complaints."""

    pk: strawberry.Private[int]

    @resolver(
        description="12365 complaints about the enterprise, newest first.",
        tier=Tier.PARTNER,
        scopes=[COMPLAINTS_SCOPE],
    )
    async def complaints(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[Complaint]:
        context = info.context
        page = await context.loader(loaders.complaints_by_enterprise).load(
            (self.pk, request(first, after, 2))
        )
        return connection(
            page,
            Complaint.from_row,
            lambda: context.loader(loaders.complaint_count_by_enterprise).load(self.pk),
        )
