"""The row of each import kind as a pydantic model: field types, limits and rules between fields.

Limits come from the SQLAlchemy columns, so a row that passes here fits its table on either
dialect. References to other records are checked later, in batches, by the kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.blacklist.models import BlacklistEntry, BlacklistRemoval, ListType
from hub.credit.models import CreditEvaluation
from hub.enterprise.models import CreditGrade, Enterprise, EnterpriseStatus, Industry, Region
from hub.importer.fields import (
    CodeList,
    Gtin,
    IsoDate,
    JsonList,
    LicenceNumber,
    RegionCode,
    Timestamp,
    Upper,
    Uscc,
    length,
)
from hub.licence.models import Licence, LicenceStatus
from hub.quality.models import CheckLevel, CheckResult, FailedItem, Product, SpotCheck
from hub.recall.models import Recall, RecallKind, RecallStatus
from hub.warning.models import ConsumerWarning, Severity

# PostgreSQL's INTEGER; SQLite would store more, but the row must fit both.
MAX_INTEGER = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a row is rejected, and which field (empty when it is the row as a whole)."""

    field: str
    reason: str


class Row(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        coerce_numbers_to_str=True,
        str_strip_whitespace=True,
        str_min_length=1,
    )

    def problems(self) -> list[Problem]:
        """Rules between fields, checked once every field is valid on its own."""
        return []


class PublishedRow(Row):
    source_agency: str = Field(max_length=length(Enterprise.source_agency))
    published_at: Timestamp | None = None


R = TypeVar("R", bound=Row)


class EnterpriseRecordRow(PublishedRow):
    """A record of one enterprise, named by its USCC."""

    uscc: Uscc


def parse_row(model: type[R], values: dict[str, Any]) -> R | list[Problem]:
    """The validated row, or every problem found in it."""
    try:
        row = model.model_validate(values)
    except ValidationError as error:
        return [_problem(detail) for detail in error.errors(include_url=False)]
    return row.problems() or row


def _problem(detail: Any) -> Problem:
    field = ".".join(str(part) for part in detail["loc"])
    if detail["type"] == "missing":
        return Problem(field, "required")
    if detail["type"] == "enum":
        return Problem(field, f"{detail['msg']}, got '{detail['input']}'")
    return Problem(field, str(detail["msg"]))


def _not_before(later: str, later_value: Any, earlier: str, earlier_value: Any) -> list[Problem]:
    if later_value < earlier_value:
        return [Problem(later, f"must not be before {earlier} ({earlier_value.isoformat()})")]
    return []


class RegionRow(Row):
    code: RegionCode
    name: str = Field(max_length=length(Region.name))


class EnterpriseRow(EnterpriseRecordRow):
    name: str = Field(max_length=length(Enterprise.name))
    legal_representative: str = Field(max_length=length(Enterprise.legal_representative))
    status: Annotated[EnterpriseStatus, Upper]
    region_code: RegionCode
    industry_code: str = Field(max_length=length(Industry.code))
    address: str = Field(max_length=length(Enterprise.address))
    established_on: IsoDate


class CreditEvaluationRow(EnterpriseRecordRow):
    grade: Annotated[CreditGrade, Upper]
    score: float = Field(ge=0, le=100, allow_inf_nan=False)
    evaluated_at: Timestamp
    authority: str = Field(max_length=length(CreditEvaluation.authority))
    basis: str


class BlacklistEntryRow(EnterpriseRecordRow):
    decision_number: str = Field(max_length=length(BlacklistEntry.decision_number))
    list_type: Annotated[ListType, Upper]
    reason: str
    legal_basis: str
    authority: str = Field(max_length=length(BlacklistEntry.authority))
    listed_on: IsoDate
    publicity_ends_on: IsoDate

    def problems(self) -> list[Problem]:
        return _not_before("publicity_ends_on", self.publicity_ends_on, "listed_on", self.listed_on)


class BlacklistRemovalRow(PublishedRow):
    decision_number: str = Field(max_length=length(BlacklistEntry.decision_number))
    removed_on: IsoDate
    reason: str
    authority: str = Field(max_length=length(BlacklistRemoval.authority))


class ProductRow(EnterpriseRecordRow):
    gtin: Gtin | None = None
    name: str = Field(max_length=length(Product.name))
    brand: str = Field(max_length=length(Product.brand))
    model: str = Field(max_length=length(Product.model))
    category: str = Field(max_length=length(Product.category))


class FailedItemRow(Row):
    item: str = Field(max_length=length(FailedItem.item))
    standard: str = Field(max_length=length(FailedItem.standard))
    required: str = Field(max_length=length(FailedItem.required))
    measured: str = Field(max_length=length(FailedItem.measured))


class SpotCheckRow(EnterpriseRecordRow):
    """The sampled product is named by its GTIN, or by name, brand and model within the
    enterprise."""

    report_number: str = Field(max_length=length(SpotCheck.report_number))
    gtin: Gtin | None = None
    product_name: str | None = Field(default=None, max_length=length(Product.name))
    brand: str | None = Field(default=None, max_length=length(Product.brand))
    model: str | None = Field(default=None, max_length=length(Product.model))
    level: Annotated[CheckLevel, Upper]
    region_code: RegionCode
    sampled_on: IsoDate
    result: Annotated[CheckResult, Upper]
    inspecting_body: str = Field(max_length=length(SpotCheck.inspecting_body))
    failed_items: Annotated[list[FailedItemRow], JsonList] = Field(default_factory=list)

    def problems(self) -> list[Problem]:
        found: list[Problem] = []
        if self.gtin is None and None in (self.product_name, self.brand, self.model):
            found.append(
                Problem("gtin", "give the product's gtin, or product_name, brand and model")
            )
        if self.result is CheckResult.FAIL and not self.failed_items:
            found.append(Problem("failed_items", "a FAIL names at least one failed item"))
        if self.result is CheckResult.PASS and self.failed_items:
            found.append(Problem("failed_items", "a PASS has no failed items"))
        return found


class LicenceRow(EnterpriseRecordRow):
    number: LicenceNumber
    product: str = Field(max_length=length(Licence.product))
    status: Annotated[LicenceStatus, Upper]
    issued_by: str = Field(max_length=length(Licence.issued_by))
    valid_from: IsoDate
    valid_until: IsoDate

    def problems(self) -> list[Problem]:
        return _not_before("valid_until", self.valid_until, "valid_from", self.valid_from)


class LicenceEventRow(Row):
    number: LicenceNumber
    status: Annotated[LicenceStatus, Upper]
    at: Timestamp
    reason: str


class RecallRow(EnterpriseRecordRow):
    notice_number: str = Field(max_length=length(Recall.notice_number))
    gtin: Gtin | None = None
    product_name: str = Field(max_length=length(Recall.product_name))
    category: str = Field(max_length=length(Recall.category))
    title: str = Field(max_length=length(Recall.title))
    hazard: str
    remedy: str
    kind: Annotated[RecallKind, Upper]
    status: Annotated[RecallStatus, Upper]
    affected_units: int = Field(ge=0, le=MAX_INTEGER)
    produced_from: IsoDate
    produced_until: IsoDate
    started_on: IsoDate

    def problems(self) -> list[Problem]:
        return _not_before(
            "produced_until", self.produced_until, "produced_from", self.produced_from
        )


class ConsumerWarningRow(PublishedRow):
    number: str = Field(max_length=length(ConsumerWarning.number))
    title: str = Field(max_length=length(ConsumerWarning.title))
    hazard: str
    advice: str
    severity: Annotated[Severity, Upper]
    category: str = Field(max_length=length(ConsumerWarning.category))
    issued_on: IsoDate
    related_recalls: Annotated[
        list[Annotated[str, Field(max_length=length(Recall.notice_number))]], CodeList
    ] = Field(default_factory=list)
    related_products: Annotated[list[Gtin], CodeList] = Field(default_factory=list)
