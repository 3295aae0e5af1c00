"""Rotating the signing key over HTTP: published first, signing after the delay, retired last.

Time is turned by hand: ``clock`` stands in for the wall clock that decides which key signs
and for the monotonic clock that ages each process's copy of the keys. Tokens keep their real
``iat`` and ``exp``, so a token stays unexpired however far the clock is turned; a token that is
refused is refused for its key.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.app import create_app
from hub.auth.keys import SigningKey
from hub.auth.models import SigningKeyRecord
from hub.auth.signing import (
    KEY_SET_MAX_AGE,
    KEY_SET_MIN_REFRESH,
    SigningKeyRefusedError,
    SigningKeyService,
    SigningKeyStore,
)
from hub.auth.tokens import LEEWAY_SECONDS, read_token
from hub.config import Settings
from hub.db import HubSession, create_engine, create_sessionmaker, transaction
from hub.kit.time import utcnow
from tests.fixtures.oauth import (
    BASE_URL,
    Credentials,
    access_token,
    graphql,
    hub_claims,
    sign,
)

JWKS = "/.well-known/jwks.json"


class Clock:
    """The wall clock and the monotonic clock of ``hub.auth.signing``, turned by hand."""

    def __init__(self) -> None:
        self.now = utcnow()
        self.monotonic = 1_000.0

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.monotonic += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("hub.auth.signing.utcnow", lambda: clock.now)
    monkeypatch.setattr("hub.auth.signing.monotonic", lambda: clock.monotonic)
    return clock


def kid_of(token: str) -> str:
    kid: str = read_token(token).header["kid"]
    return kid


async def published(hub: httpx.AsyncClient) -> list[str]:
    response = await hub.get(JWKS)
    assert response.status_code == 200
    return [key["kid"] for key in response.json()["keys"]]


async def rotate(
    sessionmaker: async_sessionmaker[HubSession], settings: Settings, now: datetime
) -> str:
    """What ``hub keys rotate`` does, at ``now``."""
    async with transaction(sessionmaker) as session:
        return await SigningKeyService(session).rotate(
            now=now,
            activation_delay=settings.signing_key_activation_delay_seconds,
            key_file=settings.signing_key_path,
        )


async def retire(
    sessionmaker: async_sessionmaker[HubSession],
    settings: Settings,
    kid: str,
    now: datetime,
    *,
    force: bool = False,
) -> None:
    """What ``hub keys retire`` does, at ``now``."""
    async with transaction(sessionmaker) as session:
        await SigningKeyService(session).retire(
            kid, now=now, token_lifetime=settings.token_lifetime_seconds, force=force
        )


async def test_a_new_key_is_published_before_it_signs_and_old_tokens_keep_verifying(
    hub: httpx.AsyncClient,
    partner: Credentials,
    settings: Settings,
    signing_key: SigningKey,
    sessionmaker: async_sessionmaker[HubSession],
    clock: Clock,
) -> None:
    # given: a token signed with the key of the file, the first key of the database
    before = await access_token(hub, partner)
    assert kid_of(before) == signing_key.kid

    # when: rotated, and every process has read the keys again
    new_kid = await rotate(sessionmaker, settings, clock.now)
    clock.advance(KEY_SET_MAX_AGE)

    # then: the new key is published, but the old one still signs
    assert await published(hub) == [signing_key.kid, new_kid]
    jwks_before_activation = KeySet.import_key_set((await hub.get(JWKS)).json())
    during = await access_token(hub, partner)
    assert kid_of(during) == signing_key.kid

    # when: the activation delay has passed
    clock.advance(settings.signing_key_activation_delay_seconds - KEY_SET_MAX_AGE)

    # then: new tokens carry the new kid, and every token verifies, on the hub and for a
    # verifier holding the JWKS it fetched before the new key signed anything
    after = await access_token(hub, partner)
    assert kid_of(after) == new_kid
    assert await published(hub) == [signing_key.kid, new_kid]
    for token in (before, during, after):
        assert (await graphql(hub, token)).status_code == 200
        claims = jwt.decode(token, jwks_before_activation, algorithms=["ES256"]).claims
        assert claims["client_id"] == partner.client_id


async def test_a_key_is_retired_once_its_tokens_have_expired_and_its_tokens_are_refused(
    hub: httpx.AsyncClient,
    partner: Credentials,
    settings: Settings,
    signing_key: SigningKey,
    sessionmaker: async_sessionmaker[HubSession],
    clock: Clock,
) -> None:
    # given: an old token, and a new key that signs since a moment ago
    old_token = await access_token(hub, partner)
    new_kid = await rotate(sessionmaker, settings, clock.now)
    activated_at = clock.now + timedelta(seconds=settings.signing_key_activation_delay_seconds)
    clock.advance(settings.signing_key_activation_delay_seconds)
    new_token = await access_token(hub, partner)
    assert kid_of(new_token) == new_kid

    # when / then: the old key may still have live tokens
    live_until = activated_at + timedelta(seconds=settings.token_lifetime_seconds + LEEWAY_SECONDS)
    with pytest.raises(SigningKeyRefusedError) as refused:
        await retire(sessionmaker, settings, signing_key.kid, clock.now)
    assert refused.value.message == (
        f"tokens signed with key {signing_key.kid} may be live until {live_until.isoformat()}; "
        "retire it then, or pass --force to refuse them from now on"
    )
    clock.advance(settings.token_lifetime_seconds + LEEWAY_SECONDS - 1)
    with pytest.raises(SigningKeyRefusedError):
        await retire(sessionmaker, settings, signing_key.kid, clock.now)
    assert await published(hub) == [signing_key.kid, new_kid]
    assert (await graphql(hub, old_token)).status_code == 200

    # when: a token lifetime plus the leeway after the old key stopped signing
    clock.advance(1)
    await retire(sessionmaker, settings, signing_key.kid, clock.now)
    clock.advance(KEY_SET_MAX_AGE)

    # then: the old key is gone from the JWKS, its tokens are refused, the new key's are not
    assert await published(hub) == [new_kid]
    refused_answer = await graphql(hub, old_token)
    assert refused_answer.status_code == 401
    assert refused_answer.json()["errors"] == [
        {
            "message": "token signed with an unknown key",
            "extensions": {"code": "UNAUTHENTICATED"},
        }
    ]
    assert (await graphql(hub, new_token)).status_code == 200
    async with sessionmaker() as session:
        record = await session.scalar(
            select(SigningKeyRecord).where(SigningKeyRecord.kid == signing_key.kid)
        )
    assert record is not None
    assert (record.private_pem, record.retired_at) == (
        None,
        clock.now - timedelta(seconds=KEY_SET_MAX_AGE),
    )


async def test_the_signing_key_is_never_retired_and_force_cuts_off_a_superseded_one(
    hub: httpx.AsyncClient,
    partner: Credentials,
    settings: Settings,
    signing_key: SigningKey,
    sessionmaker: async_sessionmaker[HubSession],
    clock: Clock,
) -> None:
    # given
    old_token = await access_token(hub, partner)
    new_kid = await rotate(sessionmaker, settings, clock.now)

    # then: while the new key waits, the old one signs, and cannot be retired, even by force
    with pytest.raises(SigningKeyRefusedError) as refused:
        await retire(sessionmaker, settings, signing_key.kid, clock.now, force=True)
    assert refused.value.message == (
        f"key {signing_key.kid} signs the tokens issued now; rotate first, and retire it once "
        "the new key signs and its tokens have expired"
    )

    # when: the new key signs, the old one is forced out at once
    clock.advance(settings.signing_key_activation_delay_seconds)
    with pytest.raises(SigningKeyRefusedError) as refused:
        await retire(sessionmaker, settings, new_kid, clock.now, force=True)
    assert refused.value.message.startswith(f"key {new_kid} signs the tokens issued now")
    await retire(sessionmaker, settings, signing_key.kid, clock.now, force=True)
    clock.advance(KEY_SET_MAX_AGE)

    # then
    assert await published(hub) == [new_kid]
    assert (await graphql(hub, old_token)).status_code == 401
    with pytest.raises(SigningKeyRefusedError) as refused:
        await retire(sessionmaker, settings, signing_key.kid, clock.now, force=True)
    assert refused.value.message == (
        f"key {signing_key.kid} was retired at "
        f"{(clock.now - timedelta(seconds=KEY_SET_MAX_AGE)).isoformat()}"
    )


async def test_a_pending_key_can_be_retired_and_then_never_signs(
    hub: httpx.AsyncClient,
    partner: Credentials,
    settings: Settings,
    signing_key: SigningKey,
    sessionmaker: async_sessionmaker[HubSession],
    clock: Clock,
) -> None:
    # given: a rotation that is waiting
    await access_token(hub, partner)
    pending = await rotate(sessionmaker, settings, clock.now)

    # then: a second rotation is refused while the first waits
    with pytest.raises(SigningKeyRefusedError) as refused:
        await rotate(sessionmaker, settings, clock.now)
    activates_at = clock.now + timedelta(seconds=settings.signing_key_activation_delay_seconds)
    assert refused.value.message == (
        f"key {pending} is already waiting to sign from {activates_at.isoformat()}; "
        "rotate again after that, or retire it"
    )

    # when: the waiting key is retired (it signed nothing), and its time comes
    await retire(sessionmaker, settings, pending, clock.now)
    clock.advance(settings.signing_key_activation_delay_seconds)

    # then: the old key goes on signing, alone in the JWKS
    assert kid_of(await access_token(hub, partner)) == signing_key.kid
    assert await published(hub) == [signing_key.kid]


@pytest.fixture
async def two_hubs(
    tmp_path: Path, sessionmaker: async_sessionmaker[HubSession]
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two processes' worth of hub on one database, each with a key file of its own.

    As two hosts on which nobody provisioned the key file: each makes one, and the database
    decides which becomes the key of both.
    """
    clients = []
    for name in ("first", "second"):
        app = create_app(
            Settings(signing_key_path=tmp_path / name / "key.pem"), sessionmaker=sessionmaker
        )
        clients.append(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL))
    try:
        yield clients[0], clients[1]
    finally:
        for client in clients:
            await client.aclose()


async def test_two_processes_agree_on_the_signing_key(
    two_hubs: tuple[httpx.AsyncClient, httpx.AsyncClient],
    partner: Credentials,
    settings: Settings,
    sessionmaker: async_sessionmaker[HubSession],
    clock: Clock,
) -> None:
    first, second = two_hubs

    # when
    from_first = await access_token(first, partner)
    from_second = await access_token(second, partner)

    # then: one key, the first process's, for both
    assert kid_of(from_second) == kid_of(from_first)
    assert await published(first) == await published(second) == [kid_of(from_first)]
    assert (await graphql(second, from_first)).status_code == 200
    assert (await graphql(first, from_second)).status_code == 200

    # when: rotated, and the delay has passed
    new_kid = await rotate(sessionmaker, settings, clock.now)
    clock.advance(settings.signing_key_activation_delay_seconds)

    # then: both sign with the new key, and each verifies the other's tokens
    from_first = await access_token(first, partner)
    from_second = await access_token(second, partner)
    assert (kid_of(from_first), kid_of(from_second)) == (new_kid, new_kid)
    assert (await graphql(second, from_first)).status_code == 200
    assert (await graphql(first, from_second)).status_code == 200


async def test_an_unknown_kid_makes_a_process_read_the_keys_at_once(
    two_hubs: tuple[httpx.AsyncClient, httpx.AsyncClient],
    partner: Credentials,
    sessionmaker: async_sessionmaker[HubSession],
    tmp_path: Path,
    clock: Clock,
) -> None:
    # given: the first process read the keys a while before the second
    first, second = two_hubs
    await published(first)
    clock.advance(3)
    await published(second)

    # when: a key rotated with no delay, seen by the first process (its copy is older)
    immediate = Settings(
        signing_key_path=tmp_path / "first" / "key.pem", signing_key_activation_delay_seconds=0
    )
    new_kid = await rotate(sessionmaker, immediate, clock.now)
    clock.advance(KEY_SET_MAX_AGE - 3 + KEY_SET_MIN_REFRESH)
    token = await access_token(first, partner)
    assert kid_of(token) == new_kid

    # then: the second process, whose copy is not due yet, reads the keys for this kid
    assert (await graphql(second, token)).status_code == 200


async def test_verifying_reads_no_keys_per_request_and_made_up_kids_are_throttled(
    hub: httpx.AsyncClient,
    partner: Credentials,
    settings: Settings,
    signing_key: SigningKey,
    statements: list[str],
    clock: Clock,
) -> None:
    # given: the keys read once
    token = await access_token(hub, partner)
    statements.clear()

    # when: tokens verified within the keys' age
    for _ in range(5):
        assert (await graphql(hub, token)).status_code == 200

    # then: no statement reads the keys
    assert _key_reads(statements) == 0

    # when: tokens with made-up kids, a refresh interval later
    clock.advance(KEY_SET_MIN_REFRESH)
    for number in range(5):
        forged = sign(
            signing_key.private, hub_claims(settings, partner.client_id), kid=f"x{number}"
        )
        answer = await graphql(hub, forged)
        assert (answer.status_code, answer.json()["errors"][0]["message"]) == (
            401,
            "token signed with an unknown key",
        )

    # then: they made the process read the keys once, not five times
    assert _key_reads(statements) == 1


def _key_reads(statements: list[str]) -> int:
    return sum("FROM signing_key" in statement for statement in statements)


@pytest.mark.parametrize(
    ("delay", "max_age"),
    [(3600, 300), (300, 300 - math.ceil(KEY_SET_MAX_AGE)), (60, 55), (3, 0), (0, 0)],
)
async def test_the_jwks_is_cached_no_longer_than_the_activation_delay_allows(
    sessionmaker: async_sessionmaker[HubSession], tmp_path: Path, delay: int, max_age: int
) -> None:
    settings = Settings(
        signing_key_path=tmp_path / "key.pem", signing_key_activation_delay_seconds=delay
    )
    app = create_app(settings, sessionmaker=sessionmaker)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as hub:
        response = await hub.get(JWKS)
    assert response.headers["cache-control"] == f"public, max-age={max_age}"


async def test_keys_read_before_stay_in_use_while_the_database_is_unreachable(
    sessionmaker: async_sessionmaker[HubSession], tmp_path: Path, clock: Clock
) -> None:
    # given
    store = SigningKeyStore(sessionmaker, tmp_path / "key.pem")
    kid = (await store.signer()).kid
    unreachable = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    store.sessionmaker = create_sessionmaker(unreachable)

    # when
    clock.advance(KEY_SET_MAX_AGE)
    try:
        ring = await store.ring()
    finally:
        await unreachable.dispose()

    # then
    assert [key["kid"] for key in ring.jwks()["keys"]] == [kid]


async def test_the_jwks_is_unavailable_when_no_key_can_be_read(tmp_path: Path) -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    app = create_app(
        Settings(signing_key_path=tmp_path / "key.pem"), sessionmaker=create_sessionmaker(engine)
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as hub:
        response = await hub.get(JWKS)
    await engine.dispose()
    assert (response.status_code, response.json()) == (
        503,
        {"error": "temporarily_unavailable", "error_description": "Try again later."},
    )
