"""One token-signing key of the hub: parsed from PEM, or made, and the key file of old.

A key is asymmetric (EC P-256 signs ES256; an RSA key of 2048 bits or more signs RS256), so
anyone can verify the hub's tokens from ``/.well-known/jwks.json`` while only the hub can make
them. Its ``kid`` is the RFC 7638 thumbprint, stable for the key and different for the next.

The keys themselves live in the database (``hub.auth.signing``). The file at
``HUB_SIGNING_KEY_PATH`` only seeds it: the first process to find no key in the database
imports the file's key, made here when the file is missing, so that the tokens it signed
before the upgrade stay valid.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, KeyParameters, KeySet, RSAKey, import_key

log = logging.getLogger("hub.auth")

RSA_MIN_BITS = 2048


class SigningKeyError(Exception):
    """A signing key cannot be used; says why, never what it holds."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    private: ECKey | RSAKey
    kid: str
    alg: str
    #: Verifies every token the hub is shown: imported once, not per request.
    _public: KeySet = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_public", KeySet([import_key(self.public_jwk())]))

    def private_key_set(self) -> KeySet:
        return KeySet([self.private])

    def public_key_set(self) -> KeySet:
        return self._public

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = dict(self.private.as_dict(private=False))
        jwk.update(kid=self.kid, alg=self.alg, use="sig")
        return jwk

    def private_pem(self) -> str:
        """PKCS#8 PEM of the private key, as the database keeps it."""
        return self.private.as_pem(private=True).decode("ascii")


def signing_key_from_pem(pem: bytes) -> SigningKey:
    key: ECKey | RSAKey
    # joserfc warns about short RSA keys; the size rule below refuses them outright.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        try:
            key = import_key(pem, "EC")
        except (JoseError, ValueError, TypeError):
            try:
                key = import_key(pem, "RSA")
            except (JoseError, ValueError, TypeError):
                raise SigningKeyError("not a PEM-encoded EC or RSA private key") from None
    if not key.is_private:
        raise SigningKeyError("the file holds a public key; the hub needs the private key")
    kid = key.thumbprint()
    if isinstance(key, ECKey):
        if key.curve_name != "P-256":
            raise SigningKeyError(f"EC keys must be on P-256, not {key.curve_name}")
        return SigningKey(import_key(pem, "EC", _parameters(kid, "ES256")), kid, "ES256")
    bits = key.raw_value.key_size
    if bits < RSA_MIN_BITS:
        raise SigningKeyError(f"RSA keys need at least {RSA_MIN_BITS} bits, not {bits}")
    return SigningKey(import_key(pem, "RSA", _parameters(kid, "RS256")), kid, "RS256")


def _parameters(kid: str, alg: str) -> KeyParameters:
    return {"kid": kid, "alg": alg, "use": "sig"}


def new_signing_key() -> SigningKey:
    """A fresh EC P-256 key (ES256), made in memory."""
    return signing_key_from_pem(
        ECKey.generate_key("P-256", private=True, auto_kid=False).as_pem(private=True)
    )


def load_or_create(path: Path) -> SigningKey:
    """The key at ``path``; a new EC P-256 key is written there first if there is none.

    Concurrent first starts (several workers) agree on one key: each writes a complete file
    under a private name and links it into place, and only the first link succeeds.
    """
    if not path.exists():
        _create(path)
    try:
        pem = path.read_bytes()
    except OSError as error:
        raise SigningKeyError(f"cannot read {path}: {error.strerror}") from None
    return signing_key_from_pem(pem)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = ECKey.generate_key("P-256", private=True, auto_kid=False).as_pem(private=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(staging, path)
        except FileExistsError:
            return
        log.warning("generated a new token signing key at %s", path)
    finally:
        staging.unlink(missing_ok=True)
