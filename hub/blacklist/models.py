from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import CHAR, FetchedValue, ForeignKey, Index, String, Text
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
    region_code: Mapped[str | None] = mapped_column(
        CHAR(6),
        server_default=FetchedValue(),
        server_onupdate=FetchedValue(),
        deferred=True,
        deferred_raiseload=True,
    )
    """The listed enterprise's region, copied by the database (migration 0005's triggers).

    The region filter of the blacklist then reads the entries alone: walking the newest
    listings of a province no longer probes the enterprise of every listing on the way
    (about six of them per listing found in Guangdong, the largest province). Never written
    by the hub, and deferred: it is for filtering, and the enterprise says where it is.
    """


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
