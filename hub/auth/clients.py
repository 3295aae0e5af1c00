"""Registering OAuth clients, revoking them and rotating their secrets.

Services flush, never commit: the caller (``hub clients``) owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from hub.auth.credentials import hash_secret, new_client_id, new_client_secret
from hub.auth.models import OAuthClient
from hub.auth.principal import Tier
from hub.auth.repository import ClientRepository
from hub.auth.scopes import SCOPES, format_scope, unknown_scopes
from hub.db import HubSession
from hub.errors import BadUserInputError, NotFoundError
from hub.kit.time import utcnow

#: The tiers a client can hold; the public needs no client.
CLIENT_TIERS = {"partner": Tier.PARTNER, "internal": Tier.INTERNAL}
NAME_MAX_LENGTH = 200


@dataclass(frozen=True, slots=True)
class IssuedCredentials:
    """A client with its secret in clear: the only moment the secret is known."""

    client: OAuthClient
    client_secret: str


def client_tier(label: str) -> Tier:
    tier = CLIENT_TIERS.get(label.strip().lower())
    if tier is None:
        raise BadUserInputError("tier", f"must be one of {', '.join(CLIENT_TIERS)}")
    return tier


def client_scopes(scopes: Iterable[str]) -> frozenset[str]:
    given = frozenset(scope.strip() for scope in scopes)
    unknown = unknown_scopes(given)
    if unknown:
        raise BadUserInputError(
            "scope",
            f"unknown scope(s) {', '.join(unknown)}; known scopes: {', '.join(sorted(SCOPES))}",
        )
    return given


def client_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise BadUserInputError("name", "must not be empty")
    if len(name) > NAME_MAX_LENGTH:
        raise BadUserInputError("name", f"at most {NAME_MAX_LENGTH} characters")
    return name


class ClientService:
    def __init__(self, session: HubSession) -> None:
        self.clients = ClientRepository(session)

    async def create(self, *, name: str, tier: str, scopes: Iterable[str]) -> IssuedCredentials:
        client = OAuthClient(
            client_id=new_client_id(),
            name=client_name(name),
            tier=client_tier(tier),
            scope=format_scope(client_scopes(scopes)),
        )
        secret = new_client_secret()
        client.secret_hash = hash_secret(secret)
        await self.clients.add(client)
        return IssuedCredentials(client, secret)

    async def all(self) -> list[OAuthClient]:
        return await self.clients.all()

    async def revoke(self, client_id: str, *, now: datetime | None = None) -> OAuthClient:
        """Revoke a client: its secret stops working, and its tokens are refused by every hub
        process within the bound of ``hub.auth.standing``."""
        client = await self._active(client_id)
        client.revoked_at = now or utcnow()
        await self.clients.session.flush()
        return client

    async def rotate_secret(
        self, client_id: str, *, now: datetime | None = None
    ) -> IssuedCredentials:
        """A new secret; the old one stops working, and tokens issued before now are refused
        within the bound of ``hub.auth.standing``."""
        client = await self._active(client_id)
        secret = new_client_secret()
        client.secret_hash = hash_secret(secret)
        client.secret_rotated_at = now or utcnow()
        await self.clients.session.flush()
        return IssuedCredentials(client, secret)

    async def _active(self, client_id: str) -> OAuthClient:
        client = await self.clients.get(client_id)
        if client is None:
            raise NotFoundError(f"no client {client_id!r}")
        if client.revoked_at is not None:
            raise BadUserInputError(
                "client_id", f"client {client_id!r} was revoked at {client.revoked_at.isoformat()}"
            )
        return client
