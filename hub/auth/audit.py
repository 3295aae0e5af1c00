"""The audit trail of personal-data reads, and its repository.

A read of personal data by a partner or an internal caller is recorded in the transaction of
the read itself; if the record cannot be written, the read fails (schema/session.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, Index, String, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from hub.auth.principal import Principal
from hub.db import Base, HubSession
from hub.kit.time import utcnow


class AuditRecord(Base):
    """One record whose personal data one request read: who, which record, which fields."""

    __tablename__ = "audit_record"
    __table_args__ = (
        Index("ix_audit_record_at", "at"),
        Index("ix_audit_record_client_at", "client_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    request_id: Mapped[str] = mapped_column(String(64))
    tier: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(128))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int]
    fields: Mapped[list[str]] = mapped_column(JSON)


@dataclass(frozen=True, slots=True)
class PersonalRead:
    record_type: str
    record_id: int
    field: str


class AuditRepository:
    def __init__(self, session: HubSession) -> None:
        self.session = session

    async def write(
        self, principal: Principal, request_id: str, reads: Sequence[PersonalRead]
    ) -> None:
        """One row per record read, with every personal field of it that was read."""
        fields: dict[tuple[str, int], list[str]] = {}
        for read in reads:
            names = fields.setdefault((read.record_type, read.record_id), [])
            if read.field not in names:
                names.append(read.field)
        at = utcnow()
        await self.session.execute(
            insert(AuditRecord),
            [
                {
                    "at": at,
                    "request_id": request_id,
                    "tier": principal.tier.label,
                    "client_id": principal.client_id,
                    "subject": principal.subject,
                    "record_type": record_type,
                    "record_id": record_id,
                    "fields": sorted(names),
                }
                for (record_type, record_id), names in fields.items()
            ],
        )

    async def recent(self, limit: int, client_id: str | None = None) -> list[AuditRecord]:
        stmt = select(AuditRecord).order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
        if client_id is not None:
            stmt = stmt.where(AuditRecord.client_id == client_id)
        return list((await self.session.scalars(stmt.limit(limit))).all())
