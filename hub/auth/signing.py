"""The hub's signing keys, kept in the database: which key signs, which keys verify, rotation.

Every process reads the same rows of ``signing_key`` and decides by the clock alone: a token is
signed with the newest key whose ``activates_at`` has passed, so the processes agree on the key
without telling each other anything. ``hub keys rotate`` adds a key that activates
``HUB_SIGNING_KEY_ACTIVATION_DELAY_SECONDS`` later and is published in the JWKS at once, so every
verifier that caches the JWKS has it before the first token signed with it. The old key stays
published, and keeps verifying, until ``hub keys retire`` removes it, which it refuses to do
while tokens the key signed may still be live.

Verifying a token must not cost a database round trip, so each process keeps the keys it read
and reads them again once they are ``HUB_AUTH_CACHE_SECONDS`` old (``KEY_SET_MAX_AGE`` unless
set): a rotation or retirement reaches every process within that bound, the same bound as a
client's revocation (``hub.auth.standing``). A token whose ``kid`` the process does not know makes
it read them at once, at most once per ``KEY_SET_MIN_REFRESH`` seconds, so tokens with made-up
``kid``s cannot turn into a flood of SELECTs. When a read fails, the keys read before stay in use.

The first process to find no key at all imports the key at ``HUB_SIGNING_KEY_PATH`` (made there
when missing, as before keys were kept in the database): the tokens signed before the upgrade
stay valid, and concurrent first starts agree on one key because the first key's ``serial`` is
1 and a second insert of it changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from time import monotonic
from typing import Any

from joserfc.jwk import KeySet, import_key
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.auth.keys import (
    SigningKey,
    SigningKeyError,
    load_or_create,
    new_signing_key,
    signing_key_from_pem,
)
from hub.auth.models import SigningKeyRecord
from hub.auth.signing_repository import SigningKeyRepository
from hub.auth.tokens import LEEWAY_SECONDS
from hub.db import DatabaseUnavailableError, HubSession, transaction
from hub.errors import HubError, NotFoundError
from hub.kit.time import utcnow

log = logging.getLogger("hub.auth")

#: Seconds a process uses the keys it read before reading them again, by default.
KEY_SET_MAX_AGE = 5.0
#: Seconds between two reads that tokens with an unknown ``kid`` may cause.
KEY_SET_MIN_REFRESH = 1.0
#: The JWKS's ``max-age`` when the activation delay allows it: verifiers refetch on an unknown
#: ``kid`` anyway, so this only spares them a fetch per token.
JWKS_MAX_AGE = 300


def jwks_max_age(activation_delay: int, key_set_max_age: float = KEY_SET_MAX_AGE) -> int:
    """How long a verifier may cache the JWKS.

    A verifier that fetched it just before a rotation must fetch it again before the new key
    signs; the JWKS it fetched may itself be ``key_set_max_age`` seconds behind the database.
    """
    return max(0, min(JWKS_MAX_AGE, activation_delay - math.ceil(key_set_max_age)))


class KeyState(StrEnum):
    PENDING = "pending"
    """Published in the JWKS, not signing yet."""
    SIGNING = "signing"
    """Signs the tokens issued now."""
    VERIFYING = "verifying"
    """Superseded; published until retired, so the tokens it signed still verify."""
    RETIRED = "retired"
    """Out of the JWKS, its private key erased; its tokens are refused."""


@dataclass(frozen=True, slots=True)
class RingKey:
    """One key as read from the database."""

    serial: int
    kid: str
    alg: str
    created_at: datetime
    activates_at: datetime
    retired_at: datetime | None
    #: None once retired: the private key is gone.
    key: SigningKey | None


class KeyRing:
    """The keys as read at one moment; every decision takes the instant as an argument."""

    def __init__(self, entries: Iterable[RingKey]) -> None:
        self.entries = tuple(sorted(entries, key=lambda entry: entry.serial))
        self._live = tuple((entry, entry.key) for entry in self.entries if entry.key is not None)
        self._public = KeySet([import_key(key.public_jwk()) for _, key in self._live])
        self._jwks: dict[str, Any] = {"keys": [key.public_jwk() for _, key in self._live]}

    def find(self, kid: str) -> RingKey | None:
        return next((entry for entry in self.entries if entry.kid == kid), None)

    def knows(self, kid: str) -> bool:
        """Whether a token with this ``kid`` could verify."""
        return any(entry.kid == kid for entry, _ in self._live)

    def public_key_set(self) -> KeySet:
        """Every key not retired, pending ones too."""
        return self._public

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set the hub publishes (RFC 7517): every key not retired."""
        return self._jwks

    def current(self, now: datetime) -> RingKey:
        """The key that signs at ``now``: the newest whose activation has passed.

        Before any has (the first key, seen by a process whose clock runs behind the one that
        imported it), the oldest live key.
        """
        if not self._live:
            raise SigningKeyError("no signing key is left")
        active = [entry for entry, _ in self._live if entry.activates_at <= now]
        return active[-1] if active else self._live[0][0]

    def signer(self, now: datetime) -> SigningKey:
        key = self.current(now).key
        assert key is not None
        return key

    def signing_until(self, entry: RingKey) -> datetime | None:
        """When ``entry`` stopped (or stops) signing: the activation of the next newer key.

        A newer key retired before it activated never signed, so it ends nothing. None while no
        newer key is due: ``entry`` signs, or will, indefinitely.
        """
        ends = [
            newer.activates_at
            for newer in self.entries
            if newer.serial > entry.serial
            and (newer.retired_at is None or newer.activates_at <= newer.retired_at)
        ]
        return min(ends, default=None)

    def retirable_at(self, entry: RingKey, token_lifetime: int) -> datetime | None:
        """From when no token signed with ``entry`` can be live; None while it signs."""
        until = self.signing_until(entry)
        if until is None:
            return None
        return until + timedelta(seconds=token_lifetime + LEEWAY_SECONDS)

    def state(self, entry: RingKey, now: datetime) -> KeyState:
        if entry.retired_at is not None:
            return KeyState.RETIRED
        if entry.serial == self.current(now).serial:
            return KeyState.SIGNING
        if entry.activates_at > now:
            return KeyState.PENDING
        return KeyState.VERIFYING


def key_ring(
    records: Iterable[SigningKeyRecord], parsed: Mapping[str, SigningKey] | None = None
) -> KeyRing:
    """The ring of ``records``; keys already in ``parsed`` (by kid) are not parsed again."""
    return KeyRing(_entry(record, parsed or {}) for record in records)


def _entry(record: SigningKeyRecord, parsed: Mapping[str, SigningKey]) -> RingKey:
    key = None
    if record.retired_at is None and record.private_pem is not None:
        key = parsed.get(record.kid) or signing_key_from_record(record)
    return RingKey(
        serial=record.serial,
        kid=record.kid,
        alg=record.alg,
        created_at=record.created_at,
        activates_at=record.activates_at,
        retired_at=record.retired_at,
        key=key,
    )


def signing_key_from_record(record: SigningKeyRecord) -> SigningKey:
    assert record.private_pem is not None
    key = signing_key_from_pem(record.private_pem.encode("ascii"))
    if key.kid != record.kid:
        raise SigningKeyError(f"the stored key {record.kid} does not match its kid")
    return key


def new_record(
    serial: int, key: SigningKey, *, now: datetime, activates_at: datetime
) -> SigningKeyRecord:
    return SigningKeyRecord(
        serial=serial,
        kid=key.kid,
        alg=key.alg,
        private_pem=key.private_pem(),
        created_at=now,
        activates_at=activates_at,
        retired_at=None,
    )


def _existing_key(path: Path) -> SigningKey | None:
    return load_or_create(path) if path.exists() else None


class SigningKeyStore:
    """The keys as one process knows them, read again when ``max_age`` seconds old."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[HubSession],
        key_file: Path,
        *,
        max_age: float = KEY_SET_MAX_AGE,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.key_file = key_file
        self.max_age = max_age
        self._ring: KeyRing | None = None
        self._tried_at = -math.inf
        self._lock = asyncio.Lock()

    async def ring(self, *, refresh: bool = False) -> KeyRing:
        """The keys; ``refresh`` asks for a newer read when a ``kid`` was not found."""
        if self._due(refresh):
            async with self._lock:
                if self._due(refresh):
                    await self._reload()
        assert self._ring is not None
        return self._ring

    async def signer(self) -> SigningKey:
        """The key that signs a token issued now."""
        return (await self.ring()).signer(utcnow())

    async def verification_keys(self, kid: object) -> KeySet:
        """The keys that may verify a token whose header names ``kid``."""
        ring = await self.ring()
        if isinstance(kid, str) and not ring.knows(kid):
            ring = await self.ring(refresh=True)
        return ring.public_key_set()

    def _due(self, refresh: bool) -> bool:
        if self._ring is None:
            return True
        age = monotonic() - self._tried_at
        return age >= self.max_age or (refresh and age >= KEY_SET_MIN_REFRESH)

    async def _reload(self) -> None:
        self._tried_at = monotonic()
        try:
            records = await self._read()
            parsed = {
                entry.kid: entry.key
                for entry in (self._ring.entries if self._ring is not None else ())
                if entry.key is not None
            }
            ring = key_ring(records, parsed)
        except (SQLAlchemyError, OSError, SigningKeyError) as error:
            if self._ring is None:
                raise
            # An outage is logged once by hub.db; anything else deserves its traceback.
            log.warning(
                "cannot read the signing keys; using those read before",
                exc_info=not isinstance(error, DatabaseUnavailableError),
            )
            return
        self._ring = ring

    async def _read(self) -> list[SigningKeyRecord]:
        async with self.sessionmaker() as session:
            records = await SigningKeyRepository(session).all()
        if records:
            return records
        first = await asyncio.to_thread(load_or_create, self.key_file)
        now = utcnow()
        async with transaction(self.sessionmaker) as session:
            keys = SigningKeyRepository(session)
            await keys.add_if_absent(new_record(1, first, now=now, activates_at=now))
            records = await keys.all()
        if records[0].kid == first.kid:
            log.info("signing key %s from %s is now kept in the database", first.kid, self.key_file)
        return records


class SigningKeyRefusedError(HubError):
    """A rotation or retirement that would cut off tokens in flight, or that raced another."""

    code = "BAD_USER_INPUT"


class SigningKeyService:
    """``hub keys``: list, rotate and retire. Flushes, never commits."""

    def __init__(self, session: HubSession) -> None:
        self.keys = SigningKeyRepository(session)

    async def ring(self) -> KeyRing:
        return key_ring(await self.keys.all())

    async def rotate(self, *, now: datetime, activation_delay: int, key_file: Path) -> str:
        """Add a new key that signs from ``now + activation_delay``; returns its kid.

        With no key in the database yet, the key at ``key_file`` becomes the first, as the
        first start of the hub would make it; the file must exist, since a key made here could
        differ from the one the hub's processes sign with today.
        """
        records = await self.keys.all()
        if not records:
            from_file = await asyncio.to_thread(_existing_key, key_file)
            if from_file is None:
                raise SigningKeyRefusedError(
                    f"no signing key in the database yet, and none at {key_file}: start the "
                    "hub once, or set HUB_SIGNING_KEY_PATH to the key it signs with"
                )
            first = new_record(1, from_file, now=now, activates_at=now)
            await self.keys.add(first)
            records = [first]
        pending = [
            record for record in records if record.retired_at is None and record.activates_at > now
        ]
        if pending:
            raise SigningKeyRefusedError(
                f"key {pending[-1].kid} is already waiting to sign from "
                f"{pending[-1].activates_at.isoformat()}; rotate again after that, or retire it"
            )
        key = new_signing_key()
        record = new_record(
            records[-1].serial + 1,
            key,
            now=now,
            activates_at=now + timedelta(seconds=activation_delay),
        )
        try:
            await self.keys.add(record)
        except IntegrityError:
            raise SigningKeyRefusedError(
                "another rotation happened at the same time; see 'hub keys list'"
            ) from None
        return key.kid

    async def retire(self, kid: str, *, now: datetime, token_lifetime: int, force: bool) -> None:
        """Take ``kid`` out of the JWKS and erase its private key; its tokens are refused.

        Refused for the key that signs now, whatever ``force`` says. Refused, unless ``force``,
        while a token it signed may be live: until a token lifetime plus the leeway after it
        stopped signing (the leeway also covers processes whose clocks differ a little).
        A key still pending never signed, and may go at any time.
        """
        records = await self.keys.all()
        ring = key_ring(records)
        entry = ring.find(kid)
        record = next((record for record in records if record.kid == kid), None)
        if entry is None or record is None:
            raise NotFoundError(f"no signing key {kid}")
        if entry.retired_at is not None:
            raise SigningKeyRefusedError(f"key {kid} was retired at {entry.retired_at.isoformat()}")
        if entry.activates_at <= now + timedelta(seconds=LEEWAY_SECONDS):
            until = ring.signing_until(entry)
            if until is None or until > now:
                raise SigningKeyRefusedError(
                    f"key {kid} signs the tokens issued now; rotate first, and retire it once "
                    "the new key signs and its tokens have expired"
                )
            retirable_at = ring.retirable_at(entry, token_lifetime)
            assert retirable_at is not None
            if now < retirable_at and not force:
                raise SigningKeyRefusedError(
                    f"tokens signed with key {kid} may be live until {retirable_at.isoformat()}; "
                    "retire it then, or pass --force to refuse them from now on"
                )
        await self.keys.retire(record, now)
