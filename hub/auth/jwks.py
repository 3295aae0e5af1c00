"""The keys of trusted issuers, from a JWK Set file or URL, cached per process.

A JWK Set changes rarely, and fetching it on every request would make the hub's availability
that of the partner's server. So a fetched set is kept for ``max_age`` seconds; a token whose
``kid`` is not in it triggers one early refresh (the issuer may have rotated its keys), at most
once per ``min_refresh_interval``, so a flood of tokens with made-up ``kid``s cannot turn into
a flood of fetches. When a refresh fails, the keys already known stay in use.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any, Protocol

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

log = logging.getLogger("hub.auth")

#: A JWK Set is a few kilobytes; anything far larger is not one.
MAX_JWKS_BYTES = 1 << 20


class KeySourceError(Exception):
    """The issuer's keys cannot be had right now."""


class KeySource(Protocol):
    async def key_set(self, *, refresh: bool = False) -> KeySet:
        """The issuer's keys; ``refresh`` asks for a newer set when a ``kid`` was not found."""
        ...


def parse_key_set(data: bytes) -> KeySet:
    try:
        value: Any = json.loads(data)
        if not isinstance(value, dict) or not isinstance(value.get("keys"), list):
            raise ValueError("not a JWK Set")
        # A trusted issuer's set must not smuggle in a symmetric key: whoever could read the
        # set could then sign tokens with it.
        keys = [key for key in value["keys"] if isinstance(key, dict) and key.get("kty") != "oct"]
        return KeySet.import_key_set({"keys": keys})
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise KeySourceError(f"invalid JWK Set: {error}") from None


class FileKeySource:
    """A JWK Set file, read again when its modification time has changed.

    The time is looked at every ``check_interval`` seconds, and at once for an unknown ``kid``:
    a rotated set is picked up by the first token signed with the new key.
    """

    def __init__(self, path: Path, *, check_interval: float = 30.0) -> None:
        self.path = path
        self.check_interval = check_interval
        self._keys: KeySet | None = None
        self._mtime: float | None = None
        self._checked_at = float("-inf")

    async def key_set(self, *, refresh: bool = False) -> KeySet:
        now = time.monotonic()
        if self._keys is None or refresh or now - self._checked_at >= self.check_interval:
            self._checked_at = now
            # A stat, and rarely a read of a few kilobytes, of a local file: not worth a thread.
            try:
                mtime = self.path.stat().st_mtime
                if self._keys is None or mtime != self._mtime:
                    self._keys = parse_key_set(self.path.read_bytes())
                    self._mtime = mtime
            except (OSError, KeySourceError) as error:
                # A file caught half-written keeps the keys read before, until the next look.
                if self._keys is None:
                    raise KeySourceError(f"cannot use {self.path}: {error}") from None
        return self._keys


class RemoteKeySource:
    """A JWK Set URL, fetched when needed and kept for ``max_age`` seconds."""

    def __init__(
        self,
        url: str,
        *,
        max_age: float = 600.0,
        min_refresh_interval: float = 30.0,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.max_age = max_age
        self.min_refresh_interval = min_refresh_interval
        self.timeout = timeout
        self.transport = transport
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_set(self, *, refresh: bool = False) -> KeySet:
        if not self._due(refresh):
            assert self._keys is not None
            return self._keys
        async with self._lock:
            if self._due(refresh):
                await self._fetch()
        if self._keys is None:
            raise KeySourceError(f"no keys from {self.url}")
        return self._keys

    def _due(self, refresh: bool) -> bool:
        age = time.monotonic() - self._fetched_at
        if self._keys is None:
            return age >= self.min_refresh_interval or self._fetched_at == float("-inf")
        return age >= self.max_age or (refresh and age >= self.min_refresh_interval)

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(
                transport=self.transport, timeout=self.timeout, follow_redirects=False
            ) as client:
                response = await client.get(self.url, headers={"accept": "application/json"})
            response.raise_for_status()
            if len(response.content) > MAX_JWKS_BYTES:
                raise KeySourceError("JWK Set too large")
            self._keys = parse_key_set(response.content)
        except (httpx.HTTPError, KeySourceError) as error:
            log.warning("cannot refresh the JWK Set at %s: %s", self.url, error)
