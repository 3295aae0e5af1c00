"""All SQL of the signing keys (``signing_key``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from hub.auth.models import SigningKeyRecord
from hub.db import HubSession


class SigningKeyRepository:
    def __init__(self, session: HubSession) -> None:
        self.session = session

    async def all(self) -> list[SigningKeyRecord]:
        """Every key, retired ones included, oldest first: a handful of rows."""
        rows = await self.session.scalars(
            select(SigningKeyRecord).order_by(SigningKeyRecord.serial)
        )
        return list(rows)

    async def add_if_absent(self, record: SigningKeyRecord) -> None:
        """Insert ``record`` unless its serial or kid is taken; a taken one changes nothing.

        On PostgreSQL a concurrent insert of the same serial waits for the first to commit and
        then does nothing; on SQLite writers take turns. Either way, read the keys afterwards.
        """
        insert = (
            postgresql.insert(SigningKeyRecord)
            if self.session.get_bind().dialect.name == "postgresql"
            else sqlite.insert(SigningKeyRecord)
        )
        await self.session.execute(
            insert.values(
                serial=record.serial,
                kid=record.kid,
                alg=record.alg,
                private_pem=record.private_pem,
                created_at=record.created_at,
                activates_at=record.activates_at,
                retired_at=record.retired_at,
            ).on_conflict_do_nothing()
        )

    async def add(self, record: SigningKeyRecord) -> None:
        """Insert ``record``; a taken serial raises ``IntegrityError`` (a concurrent rotation)."""
        self.session.add(record)
        await self.session.flush()

    async def retire(self, record: SigningKeyRecord, now: datetime) -> None:
        """Take ``record`` out of the JWKS and erase its private key."""
        record.retired_at = now
        record.private_pem = None
        await self.session.flush()
