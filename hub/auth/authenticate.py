"""From a request's Authorization header to the Principal every layer below works with.

No header is the anonymous public. A header that does not prove a principal is refused with
401 before any GraphQL runs, never downgraded to the public: a caller whose token expired
must learn it, not silently receive less data.

A token of the hub is checked against the hub's keys, which each process keeps and reads again
every few seconds (``hub.auth.signing``), and then against its client: whether the client was
revoked, rotated its secret, lost a scope or changed tier, and whether the token was revoked.
Neither check costs a database round trip in the common case. Each process keeps the clients
and revocations it read, for at most ``HUB_AUTH_CACHE_SECONDS`` (``hub.auth.standing``), so a
change made anywhere reaches every process within that bound; and a token already verified is
not verified again (``hub.auth.verified``). Tokens of trusted issuers are checked against those
issuers' keys, which are cached (``hub.auth.jwks``).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.auth.errors import UnauthenticatedError
from hub.auth.issuers import TrustedIssuer
from hub.auth.jwks import FileKeySource, KeySource, KeySourceError, RemoteKeySource
from hub.auth.principal import ANONYMOUS, Principal, Tier
from hub.auth.scopes import parse_scope
from hub.auth.signing import SigningKeyStore
from hub.auth.standing import ClientStandings, check_now
from hub.auth.tokens import (
    HubToken,
    UnverifiedToken,
    VerifiedToken,
    read_token,
    verify_token,
)
from hub.auth.verified import VerifiedTokens
from hub.config import Settings
from hub.db import HubSession
from hub.observability.metrics import count_verifications

#: The hub's own claim for the tier of the client a token was issued to.
TIER_CLAIM = "hub_tier"
CLIENT_TIER_LABELS = {Tier.PARTNER.label: Tier.PARTNER, Tier.INTERNAL.label: Tier.INTERNAL}


class Authenticator:
    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[HubSession]) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.signing_keys = SigningKeyStore(
            sessionmaker, settings.signing_key_path, max_age=settings.auth_cache_seconds
        )
        self.standings = ClientStandings(sessionmaker, settings.auth_cache_seconds)
        self.verified = VerifiedTokens()
        self.trusted_issuers = {
            trusted.issuer: TrustedIssuerVerifier(trusted)
            for trusted in settings.trusted_issuers
            if trusted.issuer != settings.issuer
        }

    @count_verifications(refused=UnauthenticatedError)
    async def authenticate(self, authorization: str | None) -> Principal:
        if authorization is None or not authorization.strip():
            return ANONYMOUS
        credentials = bearer_credentials(authorization)
        hub_token = await self._verified_before(credentials)
        if hub_token is None:
            token = read_token(credentials)
            if token.issuer != self.settings.issuer:
                trusted = self.trusted_issuers.get(token.issuer or "")
                if trusted is None:
                    raise UnauthenticatedError("token issuer is not trusted")
                return await trusted.principal(token)
            hub_token = await self.verify_hub_token(token)
            self.verified.add(credentials, hub_token)
        await self.standings.check(hub_token)
        return Principal(
            tier=hub_token.tier,
            scopes=hub_token.scopes,
            client_id=hub_token.token.client_id,
            subject=hub_token.token.subject,
        )

    async def _verified_before(self, credentials: str) -> HubToken | None:
        """A token of the hub this process verified, still unexpired, whose key is live."""
        hub_token = self.verified.get(credentials)
        if hub_token is None or hub_token.kid is None:
            return None
        if not (await self.signing_keys.ring()).knows(hub_token.kid):
            return None
        return hub_token

    async def verify_hub_token(self, token: UnverifiedToken) -> HubToken:
        """Signature, type and claims of a token of the hub; not yet its client's standing."""
        kid = token.header.get("kid")
        verified = verify_token(
            token,
            await self.signing_keys.verification_keys(kid),
            issuer=self.settings.issuer,
            audience=self.settings.audience,
        )
        tier = CLIENT_TIER_LABELS.get(str(verified.claims.get(TIER_CLAIM)))
        if tier is None:
            raise UnauthenticatedError(f"token lacks a valid {TIER_CLAIM} claim")
        scope = verified.claims.get("scope")
        if scope is not None and not isinstance(scope, str):
            raise UnauthenticatedError("invalid claim scope")
        return HubToken(
            token=verified,
            tier=tier,
            scopes=parse_scope(scope),
            kid=kid if isinstance(kid, str) else None,
        )

    async def check_client(self, token: HubToken, session: HubSession) -> None:
        """Refuse a hub token that its client, as it is now in the database, no longer backs.

        Introspection asks this: it answers what every process will enforce within the bound.
        """
        await check_now(session, token)


def bearer_credentials(authorization: str) -> str:
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise UnauthenticatedError("expected 'Authorization: Bearer <token>'")
    return credentials.strip()


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
