from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import CHAR, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, Provenance
from hub.kit.enums import enum_column


class CheckLevel(StrEnum):
    NATIONAL = "NATIONAL"
    PROVINCIAL = "PROVINCIAL"
    MUNICIPAL = "MUNICIPAL"
    INDUSTRY = "INDUSTRY"


class CheckResult(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"


class Product(Provenance, Base):
    __tablename__ = "product"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "name", "brand", "model"),
        Index("ix_product_category", "category", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(60))


class SpotCheck(Provenance, Base):
    """A supervisory spot check (监督抽查) of one sample."""

    __tablename__ = "spot_check"
    __table_args__ = (
        Index("ix_spot_check_enterprise_sampled", "enterprise_id", "sampled_on", "id"),
        Index("ix_spot_check_product_sampled", "product_id", "sampled_on", "id"),
        Index("ix_spot_check_sampled", "sampled_on", "id"),
        Index("ix_spot_check_result_level", "result", "level", "sampled_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_number: Mapped[str] = mapped_column(String(60), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    level: Mapped[CheckLevel] = mapped_column(enum_column(CheckLevel))
    region_code: Mapped[str] = mapped_column(CHAR(6), ForeignKey("region.code"))
    sampled_on: Mapped[date]
    result: Mapped[CheckResult] = mapped_column(enum_column(CheckResult))
    inspecting_body: Mapped[str] = mapped_column(String(150))


class FailedItem(Base):
    """A test item the sample failed: the standard, what it requires and what was measured."""

    __tablename__ = "spot_check_failed_item"
    __table_args__ = (UniqueConstraint("spot_check_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    spot_check_id: Mapped[int] = mapped_column(ForeignKey("spot_check.id", ondelete="CASCADE"))
    position: Mapped[int]
    item: Mapped[str] = mapped_column(String(150))
    standard: Mapped[str] = mapped_column(String(100))
    required: Mapped[str] = mapped_column(String(150))
    measured: Mapped[str] = mapped_column(String(150))
