"""All SQL of OAuth clients and revoked tokens."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite

from hub.auth.models import OAuthClient, RevokedToken
from hub.auth.principal import Tier
from hub.auth.scopes import parse_scope
from hub.db import HubSession


@dataclass(frozen=True, slots=True)
class ClientStanding:
    """What a presented token is checked against: its client as it is now, and the token's jti."""

    tier: Tier
    scopes: frozenset[str]
    revoked_at: datetime | None
    secret_rotated_at: datetime | None
    token_revoked: bool


class ClientRepository:
    def __init__(self, session: HubSession) -> None:
        self.session = session

    async def get(self, client_id: str) -> OAuthClient | None:
        return await self.session.get(OAuthClient, client_id)

    async def active(self, client_ids: Collection[str]) -> dict[str, OAuthClient]:
        """The clients among ``client_ids`` that are not revoked, by id."""
        if not client_ids:
            return {}
        rows = await self.session.scalars(
            select(OAuthClient).where(
                OAuthClient.client_id.in_(list(client_ids)), OAuthClient.revoked_at.is_(None)
            )
        )
        return {client.client_id: client for client in rows}

    async def all(self) -> list[OAuthClient]:
        rows = await self.session.scalars(
            select(OAuthClient).order_by(OAuthClient.created_at, OAuthClient.client_id)
        )
        return list(rows)

    async def add(self, client: OAuthClient) -> None:
        self.session.add(client)
        await self.session.flush()

    async def standing(self, client_id: str, jti: str) -> ClientStanding | None:
        """The client of a token and whether the token was revoked, in one statement.

        None when no such client exists.
        """
        revoked = exists().where(RevokedToken.jti == jti)
        row = (
            await self.session.execute(
                select(
                    OAuthClient.tier,
                    OAuthClient.scope,
                    OAuthClient.revoked_at,
                    OAuthClient.secret_rotated_at,
                    revoked.label("token_revoked"),
                ).where(OAuthClient.client_id == client_id)
            )
        ).one_or_none()
        if row is None:
            return None
        return ClientStanding(
            tier=row.tier,
            scopes=parse_scope(row.scope),
            revoked_at=row.revoked_at,
            secret_rotated_at=row.secret_rotated_at,
            token_revoked=bool(row.token_revoked),
        )

    async def revoke_token(
        self, jti: str, client_id: str, expires_at: datetime, now: datetime
    ) -> None:
        """Refuse the token ``jti`` until ``expires_at``; revoking it twice changes nothing.

        Rows of tokens that have expired by ``now`` are purged on the way.
        """
        await self.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
        values = {"jti": jti, "client_id": client_id, "expires_at": expires_at, "revoked_at": now}
        insert = (
            postgresql.insert(RevokedToken)
            if self.session.get_bind().dialect.name == "postgresql"
            else sqlite.insert(RevokedToken)
        )
        await self.session.execute(
            insert.values(**values).on_conflict_do_nothing(index_elements=[RevokedToken.jti])
        )
