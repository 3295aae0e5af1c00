"""Types of the licensing subgraph."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from hub.licence.models import Licence as LicenceRow
from hub.licence.models import LicenceStatus as LicenceStatusEnum
from hub.licence.repository import LicenceFilter
from schema.access import argument, enum, field, resolver
from schema.context import Context, Info
from schema.convert import from_row
from schema.licensing import loaders
from schema.node import Node, fetches
from schema.pagination import After, Connection, First, connection, request

if TYPE_CHECKING:
    from schema.enterprise import Enterprise

EnterpriseRef = Annotated["Enterprise", strawberry.lazy("schema.enterprise")]

LicenceStatus = enum(
    LicenceStatusEnum,
    name="LicenceStatus",
    description="Status of a production licence (许可证状态).",
    values={
        LicenceStatusEnum.VALID: "Valid (有效)",
        LicenceStatusEnum.SUSPENDED: "Suspended (暂停)",
        LicenceStatusEnum.REVOKED: "Revoked (吊销/撤销)",
        LicenceStatusEnum.CANCELLED: "Cancelled (注销)",
        LicenceStatusEnum.EXPIRED: "Expired (过期)",
    },
)


@strawberry.type(description="A change of a licence's status.")
class LicenceStatusChange:
    status: LicenceStatusEnum = field(description="The status from this moment on.")
    at: datetime = field(description="When the status took effect.")
    reason: str = field(description="Why the status changed.")


@strawberry.type(description="An industrial product production licence (工业产品生产许可证).")
class Licence(Node):
    enterprise_id: strawberry.Private[int]
    number: str = field(description="Licence number, e.g. XK16-108-00001.")
    product: str = field(description="Licensed product unit of the catalogue (产品单元).")
    status: LicenceStatusEnum = field(description="Current status.")
    issued_by: str = field(description="Issuing authority.")
    valid_from: date = field(description="First day of validity.")
    valid_until: date = field(description="Last day of validity.")
    source_agency: str = field(description="Agency the record came from.")
    published_at: datetime | None = field(description="When the record was made public.")

    @classmethod
    def from_row(cls, row: LicenceRow) -> Licence:
        return from_row(cls, row)

    @resolver(description="The licence holder.")
    async def enterprise(self, info: Info) -> EnterpriseRef | None:
        from schema.enterprise import Enterprise

        return await Enterprise.load(info.context, self.enterprise_id)

    @resolver(description="Status changes, oldest first; the last one is the current status.")
    async def history(self, info: Info) -> list[LicenceStatusChange]:
        rows = await info.context.loader(loaders.licence_history).load(self.pk)
        return [LicenceStatusChange(status=r.status, at=r.at, reason=r.reason) for r in rows]


@fetches("Licence")
async def _licence(context: Context, pk: int) -> Licence | None:
    row = await context.loader(loaders.licence_by_id).load(pk)
    return Licence.from_row(row) if row else None


@strawberry.type
class EnterpriseLicensing:
    """Enterprise fields owned by the licensing subgraph."""

    pk: strawberry.Private[int]

    @resolver(description="Production licences of the enterprise, newest validity first.")
    async def licences(
        self,
        info: Info,
        first: First = 20,
        after: After = None,
        status: Annotated[
            LicenceStatusEnum | None, argument("Only licences with this status.")
        ] = None,
    ) -> Connection[Licence]:
        context = info.context
        filter = LicenceFilter(status=status)
        page = await context.loader(loaders.licences_by_enterprise).load(
            (self.pk, (request(first, after, 2), filter))
        )
        return connection(
            page,
            Licence.from_row,
            lambda: context.loader(loaders.licence_count_by_enterprise).load((self.pk, filter)),
        )
