from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, Provenance
from hub.kit.enums import enum_column


class Severity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class ConsumerWarning(Provenance, Base):
    __tablename__ = "consumer_warning"
    __table_args__ = (Index("ix_consumer_warning_issued", "issued_on", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    hazard: Mapped[str] = mapped_column(Text)
    advice: Mapped[str] = mapped_column(Text)
    severity: Mapped[Severity] = mapped_column(enum_column(Severity))
    category: Mapped[str] = mapped_column(String(60))
    issued_on: Mapped[date]
    # Raised by every change to the record's search document, in the change's transaction
    # (search.outbox.enqueue): the document's external version in Elasticsearch, so that an
    # older document can never replace a newer one.
    search_version: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")


warning_recall = Table(
    "consumer_warning_recall",
    Base.metadata,
    Column("warning_id", ForeignKey("consumer_warning.id", ondelete="CASCADE"), primary_key=True),
    Column("recall_id", ForeignKey("recall.id", ondelete="CASCADE"), primary_key=True, index=True),
)

warning_product = Table(
    "consumer_warning_product",
    Base.metadata,
    Column("warning_id", ForeignKey("consumer_warning.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "product_id", ForeignKey("product.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)
