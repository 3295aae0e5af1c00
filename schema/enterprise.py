"""The Enterprise entity of the composed graph: every subgraph's fields on one type.

Each subgraph declares the Enterprise fields it owns as a mixin (``EnterpriseCredit``,
``EnterpriseLicensing``, ...); the composed graph joins them here, and a federation subgraph
can serve its own mixin alone under the same type name.
"""

from __future__ import annotations

import strawberry

from hub.enterprise.models import Enterprise as EnterpriseRow
from schema.complaints.types import EnterpriseComplaints
from schema.context import Context
from schema.convert import from_row
from schema.credit import loaders
from schema.credit.types import EnterpriseCredit
from schema.licensing.types import EnterpriseLicensing
from schema.node import Node, fetches
from schema.quality.types import EnterpriseQuality
from schema.recalls.types import EnterpriseRecalls


@strawberry.type(
    name="Enterprise",
    description="An enterprise and its quality credit file (企业质量信用档案), keyed by its USCC.",
)
class Enterprise(
    EnterpriseComplaints,
    EnterpriseRecalls,
    EnterpriseLicensing,
    EnterpriseQuality,
    EnterpriseCredit,
    Node,
):
    @classmethod
    def from_row(cls, row: EnterpriseRow) -> Enterprise:
        return from_row(
            cls,
            row,
            representative_id_number=row.legal_representative_id_number,
            representative_phone=row.legal_representative_phone,
        )

    @classmethod
    async def load(cls, context: Context, pk: int) -> Enterprise | None:
        row = await context.loader(loaders.enterprise_by_id).load(pk)
        return cls.from_row(row) if row else None


@fetches("Enterprise")
async def _enterprise(context: Context, pk: int) -> Enterprise | None:
    return await Enterprise.load(context, pk)
