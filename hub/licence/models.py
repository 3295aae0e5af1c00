from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, Provenance
from hub.kit.enums import enum_column


class LicenceStatus(StrEnum):
    VALID = "VALID"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class Licence(Provenance, Base):
    __tablename__ = "licence"
    __table_args__ = (
        Index("ix_licence_enterprise_valid_from", "enterprise_id", "valid_from", "id"),
        Index("ix_licence_status_valid_from", "status", "valid_from", "id"),
        Index("ix_licence_valid_from", "valid_from", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"))
    product: Mapped[str] = mapped_column(String(150))
    status: Mapped[LicenceStatus] = mapped_column(enum_column(LicenceStatus))
    issued_by: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date]
    valid_until: Mapped[date]


class LicenceStatusEvent(Base):
    """A change of a licence's status; the licence row keeps the latest one."""

    __tablename__ = "licence_status_event"
    __table_args__ = (UniqueConstraint("licence_id", "at", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licence.id", ondelete="CASCADE"))
    status: Mapped[LicenceStatus] = mapped_column(enum_column(LicenceStatus))
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
