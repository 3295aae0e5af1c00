"""From a request's Authorization header to the Principal every layer below works with.

No header is the anonymous public. A header that does not prove a principal is refused with
401 before any GraphQL runs, never downgraded to the public: a caller whose token expired
must learn it, not silently receive less data.

A token of the hub is checked against the hub's keys, which each process keeps and reads again
every few seconds (``hub.auth.signing``), and then against its client as it is now, read from
the database on every request rather than cached: revoking a client, revoking a token or
narrowing a client's scopes must take effect at once in every process of the hub, and a cache
would need an invalidation channel between processes to promise that. It is one primary-key
SELECT per authenticated request; anonymous requests cost nothing. Tokens of trusted issuers are
checked against those issuers' keys, which are cached (``hub.auth.jwks``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.auth.errors import UnauthenticatedError
from hub.auth.issuers import TrustedIssuer
from hub.auth.jwks import FileKeySource, KeySource, KeySourceError, RemoteKeySource
from hub.auth.principal import ANONYMOUS, Principal, Tier
from hub.auth.repository import ClientRepository, ClientStanding
from hub.auth.scopes import parse_scope
from hub.auth.signing import SigningKeyStore
from hub.auth.tokens import UnverifiedToken, VerifiedToken, read_token, verify_token
from hub.config import Settings
from hub.db import HubSession
from hub.observability.metrics import count_verifications

#: The hub's own claim for the tier of the client a token was issued to.
TIER_CLAIM = "hub_tier"
CLIENT_TIER_LABELS = {Tier.PARTNER.label: Tier.PARTNER, Tier.INTERNAL.label: Tier.INTERNAL}


@dataclass(frozen=True, slots=True)
class HubToken:
    """A verified access token of the hub, with what it grants."""

    token: VerifiedToken
    tier: Tier
    scopes: frozenset[str]


class Authenticator:
    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[HubSession]) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.signing_keys = SigningKeyStore(sessionmaker, settings.signing_key_path)
        self.trusted_issuers = {
            trusted.issuer: TrustedIssuerVerifier(trusted)
            for trusted in settings.trusted_issuers
            if trusted.issuer != settings.issuer
        }

    @count_verifications(refused=UnauthenticatedError)
    async def authenticate(self, authorization: str | None) -> Principal:
        if authorization is None or not authorization.strip():
            return ANONYMOUS
        token = read_token(bearer_credentials(authorization))
        if token.issuer == self.settings.issuer:
            hub_token = await self.verify_hub_token(token)
            async with self.sessionmaker() as session:
                await self.check_client(hub_token, session)
            return Principal(
                tier=hub_token.tier,
                scopes=hub_token.scopes,
                client_id=hub_token.token.client_id,
                subject=hub_token.token.subject,
            )
        trusted = self.trusted_issuers.get(token.issuer or "")
        if trusted is None:
            raise UnauthenticatedError("token issuer is not trusted")
        return await trusted.principal(token)

    async def verify_hub_token(self, token: UnverifiedToken) -> HubToken:
        """Signature, type and claims of a token of the hub; not yet its client's standing."""
        verified = verify_token(
            token,
            await self.signing_keys.verification_keys(token.header.get("kid")),
            issuer=self.settings.issuer,
            audience=self.settings.audience,
        )
        tier = CLIENT_TIER_LABELS.get(str(verified.claims.get(TIER_CLAIM)))
        if tier is None:
            raise UnauthenticatedError(f"token lacks a valid {TIER_CLAIM} claim")
        scope = verified.claims.get("scope")
        if scope is not None and not isinstance(scope, str):
            raise UnauthenticatedError("invalid claim scope")
        return HubToken(token=verified, tier=tier, scopes=parse_scope(scope))

    async def check_client(self, token: HubToken, session: HubSession) -> None:
        """Refuse a hub token that its client, as it is now, no longer backs."""
        standing = await ClientRepository(session).standing(token.token.client_id, token.token.jti)
        check_standing(token, standing)


def bearer_credentials(authorization: str) -> str:
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise UnauthenticatedError("expected 'Authorization: Bearer <token>'")
    return credentials.strip()


def check_standing(token: HubToken, standing: ClientStanding | None) -> None:
    if standing is None:
        raise UnauthenticatedError("token of an unknown client")
    if standing.revoked_at is not None:
        raise UnauthenticatedError("the client was revoked")
    if standing.token_revoked:
        raise UnauthenticatedError("token revoked")
    rotated = standing.secret_rotated_at
    # iat has whole seconds: a token issued in the second of the rotation still passes.
    if rotated is not None and token.token.issued_at < int(rotated.timestamp()):
        raise UnauthenticatedError("token issued before the client's secret was rotated")
    if token.tier is not standing.tier:
        raise UnauthenticatedError("token tier differs from the client's")
    if not token.scopes <= standing.scopes:
        raise UnauthenticatedError("token scopes exceed the client's grant")


class TrustedIssuerVerifier:
    """Tokens of one trusted issuer, mapped to principals of its configured tier and scopes."""

    def __init__(self, trusted: TrustedIssuer, *, keys: KeySource | None = None) -> None:
        self.trusted = trusted
        if keys is not None:
            self.keys = keys
        elif trusted.jwks_file is not None:
            self.keys = FileKeySource(trusted.jwks_file)
        else:
            assert trusted.jwks_url is not None
            self.keys = RemoteKeySource(trusted.jwks_url)

    async def principal(self, token: UnverifiedToken) -> Principal:
        verified = await self.verify(token)
        raw = verified.claims.get(self.trusted.scope_claim)
        if isinstance(raw, str):
            claimed = parse_scope(raw)
        elif isinstance(raw, list) and all(isinstance(scope, str) for scope in raw):
            claimed = frozenset(raw)
        elif raw is None:
            claimed = frozenset()
        else:
            raise UnauthenticatedError(f"invalid claim {self.trusted.scope_claim}")
        return Principal(
            tier=self.trusted.tier,
            # The issuer's own vocabulary may hold scopes of other services: keep the hub's.
            scopes=claimed & self.trusted.allowed_scopes,
            # Qualified by the issuer, so a foreign client can never pass for a client of the
            # hub (or of another issuer) in audit records or rate limits.
            client_id=f"{verified.issuer}#{verified.client_id}",
            subject=verified.subject,
        )

    async def verify(self, token: UnverifiedToken) -> VerifiedToken:
        try:
            keys = await self.keys.key_set()
            kid = token.header.get("kid")
            if isinstance(kid, str) and all(key.kid != kid for key in keys):
                keys = await self.keys.key_set(refresh=True)
        except KeySourceError:
            raise UnauthenticatedError("the issuer's keys are unavailable") from None
        return verify_token(token, keys, issuer=self.trusted.issuer, audience=self.trusted.audience)
