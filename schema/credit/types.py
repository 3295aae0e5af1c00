"""Types of the credit subgraph."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from hub.auth.personal import PERSONAL_SCOPE, PersonalKind, reveal
from hub.auth.principal import Tier
from hub.blacklist.models import BlacklistEntry as BlacklistEntryRow
from hub.blacklist.models import ListType as ListTypeEnum
from hub.credit.models import CreditEvaluation as CreditEvaluationRow
from hub.enterprise.models import CreditGrade as CreditGradeEnum
from hub.enterprise.models import EnterpriseStatus as EnterpriseStatusEnum
from schema.access import enum, field, resolver
from schema.context import Context, Info
from schema.convert import from_row
from schema.credit import loaders
from schema.node import Node, fetches
from schema.pagination import After, Connection, First, connection, request

if TYPE_CHECKING:
    from schema.enterprise import Enterprise

EnterpriseRef = Annotated["Enterprise", strawberry.lazy("schema.enterprise")]

CreditGrade = enum(
    CreditGradeEnum,
    name="CreditGrade",
    description="Quality credit grade (质量信用等级), best first.",
    values={
        CreditGradeEnum.A: "A: honest (诚信)",
        CreditGradeEnum.B: "B: fairly honest (较诚信)",
        CreditGradeEnum.C: "C: untrustworthy (失信)",
        CreditGradeEnum.D: "D: seriously untrustworthy (严重失信)",
    },
)

EnterpriseStatus = enum(
    EnterpriseStatusEnum,
    name="EnterpriseStatus",
    description="Registration status of an enterprise (登记状态).",
    values={
        EnterpriseStatusEnum.ACTIVE: "In business (存续)",
        EnterpriseStatusEnum.SUSPENDED: "Business suspended (停业)",
        EnterpriseStatusEnum.REVOKED: "Business licence revoked (吊销)",
        EnterpriseStatusEnum.CANCELLED: "Deregistered (注销)",
    },
)

ListType = enum(
    ListTypeEnum,
    name="ListType",
    description="Which list an enterprise was put on.",
    values={
        ListTypeEnum.QUALITY_BLACKLIST: "Quality credit blacklist (质量信用黑名单)",
        ListTypeEnum.SERIOUS_VIOLATION: "Serious violations of law and trust (严重违法失信名单)",
    },
)


@strawberry.type(description="An administrative division (行政区划), GB/T 2260.")
class Region:
    code: str = field(description="Six-digit division code, e.g. 440300.")
    name: str = field(description="Name of the division, e.g. 深圳市.")


@strawberry.type(description="An industry class (国民经济行业分类), GB/T 4754.")
class Industry:
    code: str = field(description="Industry code, e.g. C14.")
    name: str = field(description="Name of the industry, e.g. 食品制造业.")


@strawberry.type(description="One quality credit evaluation (质量信用评价) of an enterprise.")
class CreditEvaluation(Node):
    grade: CreditGradeEnum = field(description="The grade given.")
    score: float = field(description="The score behind the grade, 0 to 100.")
    evaluated_at: datetime = field(description="When the evaluation was made.")
    authority: str = field(description="The authority that evaluated.")
    basis: str = field(description="What the grade is based on.")
    source_agency: str = field(description="Agency the record came from.")
    published_at: datetime | None = field(description="When the record was made public.")

    @classmethod
    def from_row(cls, row: CreditEvaluationRow) -> CreditEvaluation:
        return from_row(cls, row)


@strawberry.type(description="A blacklist listing decision (列入决定) and, if any, its removal.")
class BlacklistEntry(Node):
    enterprise_id: strawberry.Private[int]
    decision_number: str = field(description="Number of the listing decision (决定书文号).")
    list_type: ListTypeEnum = field(description="Which list.")
    reason: str = field(description="Why the enterprise was listed.")
    legal_basis: str = field(description="The legal basis of the decision.")
    authority: str = field(description="The deciding authority.")
    listed_at: date = field(description="Date of listing.")
    publicity_ends_on: date = field(description="Last day of the publicity period (公示期).")
    source_agency: str = field(description="Agency the record came from.")
    published_at: datetime | None = field(description="When the listing was made public.")

    @classmethod
    def from_row(cls, row: BlacklistEntryRow) -> BlacklistEntry:
        return from_row(cls, row, listed_at=row.listed_on)

    @resolver(description="The listed enterprise.")
    async def enterprise(self, info: Info) -> EnterpriseRef | None:
        from schema.enterprise import Enterprise

        return await Enterprise.load(info.context, self.enterprise_id)

    @resolver(description="Date the entry was removed by credit repair (信用修复); null if not.")
    async def removed_at(self, info: Info) -> date | None:
        removal = await info.context.loader(loaders.blacklist_removal).load(self.pk)
        return removal.removed_on if removal else None

    @resolver(description="Why the entry was removed; null if it was not.")
    async def removal_reason(self, info: Info) -> str | None:
        removal = await info.context.loader(loaders.blacklist_removal).load(self.pk)
        return removal.reason if removal else None


@fetches("CreditEvaluation")
async def _evaluation(context: Context, pk: int) -> CreditEvaluation | None:
    row = await context.loader(loaders.evaluation_by_id).load(pk)
    return CreditEvaluation.from_row(row) if row else None


@fetches("BlacklistEntry")
async def _entry(context: Context, pk: int) -> BlacklistEntry | None:
    row = await context.loader(loaders.blacklist_entry_by_id).load(pk)
    return BlacklistEntry.from_row(row) if row else None


def _personal(
    info: Info, pk: int, field_name: str, kind: PersonalKind, value: str | None
) -> str | None:
    shown = reveal(info.context.principal, kind, value)
    if shown is not None:
        info.context.read_personal("Enterprise", pk, field_name)
    return shown


@strawberry.type
class EnterpriseCredit:
    """Enterprise fields owned by the credit subgraph: identity, grade and blacklist."""

    pk: strawberry.Private[int]
    region_code: strawberry.Private[str]
    industry_code: strawberry.Private[str]
    representative_id_number: strawberry.Private[str | None]
    representative_phone: strawberry.Private[str | None]
    uscc: str = field(description="Unified Social Credit Code (统一社会信用代码), 18 characters.")
    name: str = field(description="Registered name of the enterprise.")
    status: EnterpriseStatusEnum = field(description="Registration status.")
    legal_representative: str = field(description="Name of the legal representative (法定代表人).")
    address: str = field(description="Registered address (住所).")
    established_on: date = field(description="Date of establishment.")
    credit_grade: CreditGradeEnum | None = field(
        description="Current credit grade: that of the latest evaluation; null if never graded."
    )
    source_agency: str = field(description="Agency the record came from.")
    published_at: datetime | None = field(description="When the record was made public.")

    @resolver(
        description="ID card number of the legal representative: whole for internal callers, "
        "masked (4403**********1234) for partners. Every read is audited.",
        tier=Tier.PARTNER,
        scopes=[PERSONAL_SCOPE],
    )
    def legal_representative_id_number(self, info: Info) -> str | None:
        return _personal(
            info,
            self.pk,
            "legalRepresentativeIdNumber",
            PersonalKind.ID_NUMBER,
            self.representative_id_number,
        )

    @resolver(
        description="Phone number of the legal representative: whole for internal callers, "
        "masked (138****5678) for partners. Every read is audited.",
        tier=Tier.PARTNER,
        scopes=[PERSONAL_SCOPE],
    )
    def legal_representative_phone(self, info: Info) -> str | None:
        return _personal(
            info, self.pk, "legalRepresentativePhone", PersonalKind.PHONE, self.representative_phone
        )

    @resolver(description="The administrative division the enterprise is registered in.")
    async def region(self, info: Info) -> Region | None:
        row = await info.context.loader(loaders.region_by_code).load(self.region_code)
        return Region(code=row.code, name=row.name) if row else None

    @resolver(description="The enterprise's industry.")
    async def industry(self, info: Info) -> Industry | None:
        row = await info.context.loader(loaders.industry_by_code).load(self.industry_code)
        return Industry(code=row.code, name=row.name) if row else None

    @resolver(description="Credit evaluations, newest first.")
    async def credit_history(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[CreditEvaluation]:
        context = info.context
        page = await context.loader(loaders.credit_history).load(
            (self.pk, request(first, after, 2))
        )
        return connection(
            page,
            CreditEvaluation.from_row,
            lambda: context.loader(loaders.credit_history_count).load(self.pk),
        )

    @resolver(
        description="Whether the enterprise has a blacklist listing in force today "
        "(published, within its publicity period, not removed)."
    )
    async def blacklisted(self, info: Info) -> bool:
        return await info.context.loader(loaders.blacklisted).load(self.pk)

    @resolver(
        description="Blacklist listings of the enterprise that the caller may see, newest first."
    )
    async def blacklist_entries(self, info: Info) -> list[BlacklistEntry]:
        rows = await info.context.loader(loaders.blacklist_entries).load(self.pk)
        return [BlacklistEntry.from_row(row) for row in rows]
