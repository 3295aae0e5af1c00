from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import CHAR, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, Provenance
from hub.kit.enums import enum_column


class EnterpriseStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"
    CANCELLED = "CANCELLED"


class CreditGrade(StrEnum):
    """Quality credit grades, best first."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Region(Base):
    """A GB/T 2260 administrative division (province, prefecture or county)."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(CHAR(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))


class Industry(Base):
    """A GB/T 4754 national economic industry class."""

    __tablename__ = "industry"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Enterprise(Provenance, Base):
    __tablename__ = "enterprise"
    __table_args__ = (
        Index("ix_enterprise_region_established", "region_code", "established_on", "id"),
        Index("ix_enterprise_grade_established", "credit_grade", "established_on", "id"),
        Index("ix_enterprise_established", "established_on", "id"),
        Index("ix_enterprise_name", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(CHAR(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_representative: Mapped[str] = mapped_column(String(60))
    # Personal data of a natural person: internal, masked for partners, audited on every read.
    legal_representative_id_number: Mapped[str | None] = mapped_column(String(18))
    legal_representative_phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[EnterpriseStatus] = mapped_column(enum_column(EnterpriseStatus))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    industry_code: Mapped[str] = mapped_column(ForeignKey("industry.code"))
    address: Mapped[str] = mapped_column(String(300))
    established_on: Mapped[date]
    # The grade of the latest evaluation, kept by the credit service so that filtering a
    # million enterprises by grade is one index scan instead of a lateral join.
    credit_grade: Mapped[CreditGrade | None] = mapped_column(enum_column(CreditGrade))
    # Raised by every change to the record's search document, in the change's transaction
    # (search.outbox.enqueue): the document's external version in Elasticsearch, so that an
    # older document can never replace a newer one.
    search_version: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")
