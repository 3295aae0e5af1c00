from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, Provenance
from hub.kit.enums import enum_column


class RecallKind(StrEnum):
    VOLUNTARY = "VOLUNTARY"
    ORDERED = "ORDERED"


class RecallStatus(StrEnum):
    ONGOING = "ONGOING"
    COMPLETED = "COMPLETED"


class Recall(Provenance, Base):
    __tablename__ = "recall"
    __table_args__ = (
        Index("ix_recall_enterprise_started", "enterprise_id", "started_on", "id"),
        Index("ix_recall_product_started", "product_id", "started_on", "id"),
        Index("ix_recall_started", "started_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_number: Mapped[str] = mapped_column(String(40), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    product_name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    hazard: Mapped[str] = mapped_column(Text)
    remedy: Mapped[str] = mapped_column(Text)
    kind: Mapped[RecallKind] = mapped_column(enum_column(RecallKind))
    status: Mapped[RecallStatus] = mapped_column(enum_column(RecallStatus))
    affected_units: Mapped[int]
    produced_from: Mapped[date]
    produced_until: Mapped[date]
    started_on: Mapped[date]
    # Raised by every change to the record's search document, in the change's transaction
    # (search.outbox.enqueue): the document's external version in Elasticsearch, so that an
    # older document can never replace a newer one.
    search_version: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")
