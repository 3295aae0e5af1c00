"""``hub clients``: register, list, revoke OAuth2 clients and rotate their secrets.
``hub keys``: list, rotate and retire the keys that sign the hub's tokens.

Every command prints JSON, so that provisioning scripts can read what it did. A client secret
is printed once, by ``create`` and ``rotate-secret``; the hub keeps only its hash. No command
prints a private key.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from hub.auth.clients import CLIENT_TIERS, ClientService, IssuedCredentials
from hub.auth.models import OAuthClient
from hub.auth.scopes import SCOPES
from hub.auth.signing import KeyRing, RingKey, SigningKeyService
from hub.config import get_settings
from hub.db import HubSession, create_engine, create_sessionmaker, transaction
from hub.errors import HubError
from hub.kit.time import utcnow

T = TypeVar("T")


@click.group()
def clients() -> None:
    """OAuth2 clients of partner ministries and internal agencies (client credentials)."""


@clients.command("create")
@click.option("--name", required=True, help="Who the client is, e.g. 'Ministry of Commerce'.")
@click.option(
    "--tier",
    required=True,
    metavar="|".join(CLIENT_TIERS),
    help="The tier its tokens get.",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    metavar="SCOPE",
    help="A scope to grant; repeat for more. Known: " + ", ".join(sorted(SCOPES)) + ".",
)
def create(name: str, tier: str, scopes: tuple[str, ...]) -> None:
    """Register a client; prints its client_id and client_secret (shown this once only)."""
    issued = _run(
        lambda session: ClientService(session).create(name=name, tier=tier, scopes=scopes)
    )
    _echo(_issued(issued))


@clients.command("list")
def list_clients() -> None:
    """Every client, revoked ones included, oldest first (no secrets)."""
    found = _run(lambda session: ClientService(session).all())
    _echo([_described(client) for client in found])


@clients.command("revoke")
@click.argument("client_id")
def revoke(client_id: str) -> None:
    """Revoke a client: its secret stops working, and every hub process refuses its tokens
    within HUB_AUTH_CACHE_SECONDS (5 s)."""
    client = _run(lambda session: ClientService(session).revoke(client_id))
    _echo(_described(client))


@clients.command("rotate-secret")
@click.argument("client_id")
def rotate_secret(client_id: str) -> None:
    """Give a client a new secret; the old one stops working, and tokens issued before are
    refused within HUB_AUTH_CACHE_SECONDS (5 s)."""
    issued = _run(lambda session: ClientService(session).rotate_secret(client_id))
    _echo(_issued(issued))


@click.group()
def keys() -> None:
    """The keys that sign the hub's access tokens: list, rotate, retire."""


@keys.command("list")
def list_keys() -> None:
    """Every signing key, retired ones included, oldest first (no private keys)."""
    now = utcnow()
    ring = _run(lambda session: SigningKeyService(session).ring())
    _echo([_described_key(ring, entry, now) for entry in ring.entries])


@keys.command("rotate")
def rotate_key() -> None:
    """Add a new signing key: published in the JWKS now, signing after the activation delay
    (HUB_SIGNING_KEY_ACTIVATION_DELAY_SECONDS)."""
    settings = get_settings()
    now = utcnow()

    async def rotate(session: HubSession) -> tuple[KeyRing, str]:
        service = SigningKeyService(session)
        kid = await service.rotate(
            now=now,
            activation_delay=settings.signing_key_activation_delay_seconds,
            key_file=settings.signing_key_path,
        )
        return await service.ring(), kid

    ring, kid = _run(rotate)
    _echo(_described_key(ring, _entry(ring, kid), now))


# A kid is base64url and may start with '-': with no short options (not even -h), whatever
# starts with a single '-' is the KID.
@keys.command(
    "retire",
    context_settings={"ignore_unknown_options": True, "help_option_names": ["--help"]},
)
@click.argument("kid")
@click.option(
    "--force",
    is_flag=True,
    help="Retire even while tokens signed with the key may be live: they are refused within "
    "HUB_AUTH_CACHE_SECONDS (5 s).",
)
def retire_key(kid: str, force: bool) -> None:
    """Remove a key from the JWKS and erase its private key; its tokens are refused.

    Refused while tokens it signed may be live (unless --force), and always for the key that
    signs now.
    """
    settings = get_settings()
    now = utcnow()

    async def retire(session: HubSession) -> KeyRing:
        service = SigningKeyService(session)
        await service.retire(
            kid, now=now, token_lifetime=settings.token_lifetime_seconds, force=force
        )
        return await service.ring()

    ring = _run(retire)
    _echo(_described_key(ring, _entry(ring, kid), now))


def _entry(ring: KeyRing, kid: str) -> RingKey:
    entry = ring.find(kid)
    assert entry is not None
    return entry


def _described_key(ring: KeyRing, entry: RingKey, now: datetime) -> dict[str, Any]:
    lifetime = get_settings().token_lifetime_seconds
    return {
        "kid": entry.kid,
        "alg": entry.alg,
        "state": ring.state(entry, now).value,
        "created_at": entry.created_at.isoformat(),
        "activates_at": entry.activates_at.isoformat(),
        "signing_until": _isoformat(ring.signing_until(entry)),
        "retirable_at": None
        if entry.retired_at is not None
        else _isoformat(ring.retirable_at(entry, lifetime)),
        "retired_at": _isoformat(entry.retired_at),
    }


def _run(action: Callable[[HubSession], Awaitable[T]]) -> T:
    """Run ``action`` in one transaction; expected errors become a message and exit code 1."""

    async def run() -> T:
        engine = create_engine(get_settings().database_url)
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                return await action(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except HubError as error:
        raise click.ClickException(error.message) from None
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        raise click.ClickException(
            f"database error (is the database migrated? try 'hub db upgrade'): {cause}"
        ) from None


def _described(client: OAuthClient) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "tier": client.tier.label,
        "scopes": sorted(client.scopes),
        "created_at": client.created_at.isoformat(),
        "secret_rotated_at": _isoformat(client.secret_rotated_at),
        "revoked_at": _isoformat(client.revoked_at),
    }


def _isoformat(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _issued(issued: IssuedCredentials) -> dict[str, Any]:
    return {**_described(issued.client), "client_secret": issued.client_secret}


def _echo(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))
