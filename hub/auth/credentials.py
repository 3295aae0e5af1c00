"""Client identifiers and secrets: how they are made, stored and checked.

A secret is 256 random bits from the operating system's CSPRNG, so the hub stores its SHA-256
digest and compares digests in constant time. A slow password KDF (scrypt, Argon2) exists to
make guessing low-entropy human passwords expensive; against 256 random bits guessing is
already hopeless, and a KDF would only add tens of milliseconds of CPU to every token request.
A leaked table of digests does not reveal any secret, because SHA-256 has no known preimage
attack. The digest is domain-separated so that it can never be mistaken for another SHA-256
value the hub might store.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

#: Prefixes let secret scanners recognise a leaked credential of the hub.
CLIENT_ID_PREFIX = "qch_"
SECRET_PREFIX = "qchs_"
SECRET_BYTES = 32
_DOMAIN = b"quality-credit-hub client secret v1\x00"


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_hex(12)


def new_client_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str) -> str:
    """The stored form of ``secret``: 64 hex characters."""
    return hashlib.sha256(_DOMAIN + secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Whether ``secret`` hashes to ``stored_hash``, in time independent of where they differ."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)
