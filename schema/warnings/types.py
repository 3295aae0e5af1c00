"""Types of the warnings subgraph."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from hub.warning.models import ConsumerWarning as ConsumerWarningRow
from hub.warning.models import Severity as SeverityEnum
from schema.access import enum, field, resolver
from schema.context import Context, Info
from schema.convert import from_row
from schema.node import Node, fetches
from schema.quality.types import Product
from schema.recalls.types import Recall
from schema.warnings import loaders

Severity = enum(
    SeverityEnum,
    name="Severity",
    description="How serious the hazard of a consumer warning is.",
    values={
        SeverityEnum.LOW: "General (一般)",
        SeverityEnum.MEDIUM: "Serious (较重)",
        SeverityEnum.HIGH: "Severe (严重)",
        SeverityEnum.CRITICAL: "Extremely severe (特别严重)",
    },
)


@strawberry.type(description="A consumer warning (消费预警) issued to the public.")
class ConsumerWarning(Node):
    number: str = field(description="Number of the warning.")
    title: str = field(description="Title of the warning.")
    hazard: str = field(description="The hazard consumers face.")
    advice: str = field(description="What consumers should do.")
    severity: SeverityEnum = field(description="How serious the hazard is.")
    category: str = field(description="Product category concerned.")
    issued_on: date = field(description="Date the warning was issued.")
    source_agency: str = field(description="Agency the record came from.")
    published_at: datetime | None = field(description="When the warning was made public.")

    @classmethod
    def from_row(cls, row: ConsumerWarningRow) -> ConsumerWarning:
        return from_row(cls, row)

    @resolver(description="Recalls the warning refers to, newest first.")
    async def related_recalls(self, info: Info) -> list[Recall]:
        rows = await info.context.loader(loaders.related_recalls).load(self.pk)
        return [Recall.from_row(row) for row in rows]

    @resolver(description="Products the warning refers to.")
    async def related_products(self, info: Info) -> list[Product]:
        rows = await info.context.loader(loaders.related_products).load(self.pk)
        return [Product.from_row(row) for row in rows]


@fetches("ConsumerWarning")
async def _warning(context: Context, pk: int) -> ConsumerWarning | None:
    row = await context.loader(loaders.warning_by_id).load(pk)
    return ConsumerWarning.from_row(row) if row else None
