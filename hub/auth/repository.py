"""All SQL of OAuth clients and revoked tokens."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite

from hub.auth.models import OAuthClient, RevokedToken
from hub.auth.principal import Tier
from hub.auth.scopes import parse_scope
from hub.auth.tokens import LEEWAY_SECONDS
from hub.db import HubSession


@dataclass(frozen=True, slots=True)
class ClientStatus:
    """What a client's tokens are checked against: the client as it was read."""

    tier: Tier
    scopes: frozenset[str]
    revoked_at: datetime | None
    secret_rotated_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClientStanding:
    """A token's client as it is now, and whether the token itself was revoked."""

    client: ClientStatus
    token_revoked: bool


@dataclass(frozen=True, slots=True)
class Standings:
    """Every client, and the revoked tokens that could still verify, as read at one moment."""

    clients: Mapping[str, ClientStatus]
    revoked_tokens: frozenset[str]


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
                select(*_STATUS_COLUMNS, revoked.label("token_revoked")).where(
                    OAuthClient.client_id == client_id
                )
            )
        ).one_or_none()
        if row is None:
            return None
        return ClientStanding(client=_status(row), token_revoked=bool(row.token_revoked))

    async def standings(self, now: datetime) -> Standings:
        """Every client's status, and the jtis of the revoked tokens still live at ``now``.

        A token is accepted up to ``LEEWAY_SECONDS`` past its ``exp``, so its revocation is
        kept that long too. Clients are a few hundred rows at most, and revocations live no
        longer than a token, so both are read whole.
        """
        clients = await self.session.execute(select(OAuthClient.client_id, *_STATUS_COLUMNS))
        revoked = await self.session.scalars(
            select(RevokedToken.jti).where(RevokedToken.expires_at > _live_since(now))
        )
        return Standings(
            clients={row.client_id: _status(row) for row in clients},
            revoked_tokens=frozenset(revoked),
        )

    async def revoke_token(
        self, jti: str, client_id: str, expires_at: datetime, now: datetime
    ) -> None:
        """Refuse the token ``jti`` until ``expires_at``; revoking it twice changes nothing.

        Rows of tokens that no longer verify at ``now``, even with the leeway, are purged on
        the way.
        """
        await self.session.execute(
            delete(RevokedToken).where(RevokedToken.expires_at <= _live_since(now))
        )
        values = {"jti": jti, "client_id": client_id, "expires_at": expires_at, "revoked_at": now}
        insert = (
            postgresql.insert(RevokedToken)
            if self.session.get_bind().dialect.name == "postgresql"
            else sqlite.insert(RevokedToken)
        )
        await self.session.execute(
            insert.values(**values).on_conflict_do_nothing(index_elements=[RevokedToken.jti])
        )


_STATUS_COLUMNS = (
    OAuthClient.tier,
    OAuthClient.scope,
    OAuthClient.revoked_at,
    OAuthClient.secret_rotated_at,
)


def _status(row: Row[Any]) -> ClientStatus:
    return ClientStatus(
        tier=row.tier,
        scopes=parse_scope(row.scope),
        revoked_at=row.revoked_at,
        secret_rotated_at=row.secret_rotated_at,
    )


def _live_since(now: datetime) -> datetime:
    """Tokens that expired after this instant still verify at ``now``, within the leeway."""
    return now - timedelta(seconds=LEEWAY_SECONDS)
