from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CHAR, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base
from hub.kit.enums import enum_column
from hub.kit.time import utcnow


class ComplaintChannel(StrEnum):
    HOTLINE = "HOTLINE"
    WEB = "WEB"
    APP = "APP"
    LETTER = "LETTER"


class ComplaintStatus(StrEnum):
    RECEIVED = "RECEIVED"
    HANDLING = "HANDLING"
    CLOSED = "CLOSED"


class Complaint(Base):
    """A 12365 complaint or report. Never published: the complainant is personal data."""

    __tablename__ = "complaint"
    __table_args__ = (
        Index("ix_complaint_received", "received_at", "id"),
        Index("ix_complaint_enterprise_received", "enterprise_id", "received_at", "id"),
        Index("ix_complaint_product_received", "product_id", "received_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    received_at: Mapped[datetime]
    channel: Mapped[ComplaintChannel] = mapped_column(enum_column(ComplaintChannel))
    status: Mapped[ComplaintStatus] = mapped_column(enum_column(ComplaintStatus))
    region_code: Mapped[str] = mapped_column(CHAR(6), ForeignKey("region.code"))
    product_category: Mapped[str] = mapped_column(String(60))
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprise.id", ondelete="SET NULL")
    )
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(Text)
    handling_agency: Mapped[str] = mapped_column(String(100))
    complainant_name: Mapped[str] = mapped_column(String(60))
    complainant_phone: Mapped[str] = mapped_column(String(20))
    complainant_id_number: Mapped[str | None] = mapped_column(String(18))
    complainant_address: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
