"""Verifying RFC 9068 JWT access tokens: header, signature and claims, with joserfc.

Every check refuses with a short reason that names what failed, never a key, a claim value
or a stack. The order matters: nothing in a token is trusted before its signature is verified,
except the ``iss`` that chooses which issuer's keys to verify it with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jwt import ClaimsOption, JWTClaimsRegistry

from hub.auth.errors import UnauthenticatedError
from hub.auth.principal import Tier

#: Clock skew tolerated on ``exp``, ``nbf`` and ``iat``.
LEEWAY_SECONDS = 30
#: RFC 9068 §4: ``typ`` must be ``at+jwt`` (``application/at+jwt`` is the same media type).
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
#: Asymmetric algorithms only, each with the key type it needs: no ``none``, no HMAC, so a
#: public key can never double as a shared secret.
ALGORITHMS_BY_KEY_TYPE: Mapping[str, frozenset[str]] = {
    "EC": frozenset({"ES256", "ES384"}),
    "RSA": frozenset({"RS256", "PS256"}),
}
ALLOWED_ALGORITHMS = frozenset().union(*ALGORITHMS_BY_KEY_TYPE.values())

_CLAIM_REASONS = {
    "iss": "token issuer mismatch",
    "aud": "token is not meant for this audience",
    "nbf": "token is not valid yet",
    "iat": "token issued in the future",
}


@dataclass(frozen=True, slots=True)
class UnverifiedToken:
    """A well-formed compact JWS whose signature and claims are not checked yet."""

    signed: jws.CompactSignature
    header: Mapping[str, Any]
    claims: Mapping[str, Any]

    @property
    def issuer(self) -> str | None:
        issuer = self.claims.get("iss")
        return issuer if isinstance(issuer, str) else None


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """An access token whose signature, type, algorithm and claims all passed."""

    issuer: str
    subject: str
    client_id: str
    jti: str
    issued_at: int
    expires_at: int
    claims: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class HubToken:
    """A verified access token of the hub, with what it grants."""

    token: VerifiedToken
    tier: Tier
    scopes: frozenset[str]
    #: The key that signed it.
    kid: str | None


def read_token(token: str) -> UnverifiedToken:
    """Split a compact JWS into header and claims, or refuse it as malformed."""
    try:
        signed = jws.extract_compact(token.encode("ascii"))
        claims = json.loads(signed.payload)
    except (JoseError, ValueError, TypeError, UnicodeError):
        raise UnauthenticatedError("malformed token") from None
    if not isinstance(claims, dict):
        raise UnauthenticatedError("malformed token")
    return UnverifiedToken(signed=signed, header=signed.headers(), claims=claims)


def verify_token(
    token: UnverifiedToken,
    keys: KeySet,
    *,
    issuer: str,
    audience: str,
    now: int | None = None,
) -> VerifiedToken:
    """Check ``token`` against ``keys`` and the expected issuer and audience."""
    typ = token.header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
        raise UnauthenticatedError("token type must be at+jwt")
    alg = token.header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        raise UnauthenticatedError("token algorithm not allowed")
    kid = token.header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise UnauthenticatedError("malformed token")
    try:
        key = keys.get_by_kid(kid)
    except InvalidKeyIdError:
        raise UnauthenticatedError("token signed with an unknown key") from None
    if alg not in ALGORITHMS_BY_KEY_TYPE.get(key.key_type, ()) or key.alg not in (None, alg):
        raise UnauthenticatedError("token algorithm does not match its key")
    try:
        valid = jws.validate_compact(token.signed, key, algorithms=[alg])
    except JoseError:
        valid = False
    if not valid:
        raise UnauthenticatedError("invalid token signature")
    _validate_claims(token.claims, issuer=issuer, audience=audience, now=now)
    claims = token.claims
    return VerifiedToken(
        issuer=claims["iss"],
        subject=claims["sub"],
        client_id=claims["client_id"],
        jti=claims["jti"],
        issued_at=int(claims["iat"]),
        expires_at=int(claims["exp"]),
        claims=claims,
    )


def _validate_claims(
    claims: Mapping[str, Any], *, issuer: str, audience: str, now: int | None
) -> None:
    essential: ClaimsOption = {"essential": True}
    registry = JWTClaimsRegistry(
        now=now,
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        sub=essential,
        client_id=essential,
        jti=essential,
        iat=essential,
        exp=essential,
    )
    try:
        registry.validate(dict(claims))
    except ExpiredTokenError:
        raise UnauthenticatedError("token expired") from None
    except MissingClaimError as error:
        raise UnauthenticatedError(f"token lacks claim {error.claim}") from None
    except ClaimError as error:
        reason = _CLAIM_REASONS.get(error.claim, f"invalid claim {error.claim}")
        raise UnauthenticatedError(reason) from None
    if not isinstance(claims["client_id"], str):
        raise UnauthenticatedError("invalid claim client_id")
    scope = claims.get("scope")
    if scope is not None and not isinstance(scope, str | list):
        raise UnauthenticatedError("invalid claim scope")
