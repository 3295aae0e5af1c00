from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, Provenance
from hub.kit.enums import enum_column


class ListType(StrEnum):
    QUALITY_BLACKLIST = "QUALITY_BLACKLIST"
    SERIOUS_VIOLATION = "SERIOUS_VIOLATION"


class BlacklistEntry(Provenance, Base):
    """A listing decision; its removal is a separate record, so the decision never changes."""

    __tablename__ = "blacklist_entry"
    __table_args__ = (
        Index("ix_blacklist_entry_enterprise", "enterprise_id", "listed_on"),
        Index("ix_blacklist_entry_listed", "listed_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_number: Mapped[str] = mapped_column(String(80), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"))
    list_type: Mapped[ListType] = mapped_column(enum_column(ListType))
    reason: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(String(100))
    listed_on: Mapped[date]
    publicity_ends_on: Mapped[date]


class BlacklistRemoval(Provenance, Base):
    """Credit repair: the entry leaves the published list from ``removed_on``."""

    __tablename__ = "blacklist_removal"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("blacklist_entry.id", ondelete="CASCADE"), unique=True
    )
    removed_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(String(100))
