"""Types of the recalls subgraph."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from hub.recall.models import Recall as RecallRow
from hub.recall.models import RecallKind as RecallKindEnum
from hub.recall.models import RecallStatus as RecallStatusEnum
from schema.access import enum, field, resolver
from schema.context import Context, Info
from schema.convert import from_row
from schema.node import Node, fetches
from schema.pagination import After, Connection, First, connection, request
from schema.quality import loaders as quality_loaders
from schema.quality.types import Product
from schema.recalls import loaders

if TYPE_CHECKING:
    from schema.enterprise import Enterprise

EnterpriseRef = Annotated["Enterprise", strawberry.lazy("schema.enterprise")]

RecallKind = enum(
    RecallKindEnum,
    name="RecallKind",
    description="Who started a recall.",
    values={
        RecallKindEnum.VOLUNTARY: "Voluntary recall by the producer (主动召回)",
        RecallKindEnum.ORDERED: "Recall ordered by the authority (责令召回)",
    },
)

RecallStatus = enum(
    RecallStatusEnum,
    name="RecallStatus",
    description="Progress of a recall.",
    values={
        RecallStatusEnum.ONGOING: "The recall is under way (召回中)",
        RecallStatusEnum.COMPLETED: "The recall is finished (已完成)",
    },
)


@strawberry.type(description="A defective product recall notice (缺陷产品召回公告).")
class Recall(Node):
    enterprise_id: strawberry.Private[int]
    product_id: strawberry.Private[int | None]
    notice_number: str = field(description="Number of the recall notice.")
    title: str = field(description="Title of the notice.")
    product_name: str = field(description="The recalled product as the notice names it.")
    category: str = field(description="Product category, e.g. 电动自行车.")
    hazard: str = field(description="The defect and the hazard it causes.")
    remedy: str = field(description="What the producer does about it (repair, replace, refund).")
    kind: RecallKindEnum = field(description="Voluntary or ordered.")
    status: RecallStatusEnum = field(description="Progress of the recall.")
    affected_units: int = field(description="Number of units affected.")
    produced_from: date = field(description="First production date of the affected units.")
    produced_until: date = field(description="Last production date of the affected units.")
    started_on: date = field(description="Date the recall started.")
    source_agency: str = field(description="Agency the record came from.")
    published_at: datetime | None = field(description="When the notice was made public.")

    @classmethod
    def from_row(cls, row: RecallRow) -> Recall:
        return from_row(cls, row)

    @resolver(description="The producer running the recall.")
    async def enterprise(self, info: Info) -> EnterpriseRef | None:
        from schema.enterprise import Enterprise

        return await Enterprise.load(info.context, self.enterprise_id)

    @resolver(description="The recalled product in the quality archive, where it is on record.")
    async def product(self, info: Info) -> Product | None:
        if self.product_id is None:
            return None
        row = await info.context.loader(quality_loaders.product_by_id).load(self.product_id)
        return Product.from_row(row) if row else None


@fetches("Recall")
async def _recall(context: Context, pk: int) -> Recall | None:
    row = await context.loader(loaders.recall_by_id).load(pk)
    return Recall.from_row(row) if row else None


async def recalls_of_product(
    context: Context, product_id: int, first: int | None, after: str | None
) -> Connection[Recall]:
    page = await context.loader(loaders.recalls_by_product).load(
        (product_id, request(first, after, 2))
    )
    return connection(
        page,
        Recall.from_row,
        lambda: context.loader(loaders.recall_count_by_product).load(product_id),
    )


@strawberry.type
class EnterpriseRecalls:
    """Enterprise fields owned by the recalls subgraph."""

    pk: strawberry.Private[int]

    @resolver(description="Recalls run by the enterprise, newest first.")
    async def recalls(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[Recall]:
        context = info.context
        page = await context.loader(loaders.recalls_by_enterprise).load(
            (self.pk, request(first, after, 2))
        )
        return connection(
            page,
            Recall.from_row,
            lambda: context.loader(loaders.recall_count_by_enterprise).load(self.pk),
        )
