"""The OAuth2 authorization server: Authlib's generic server, adapted to Starlette.

Authlib has no Starlette server integration. Its framework integrations (Flask, Django) each do
three things, and so does this module: wrap the framework's request in an ``OAuth2Request``
(``create_oauth2_request``), turn Authlib's ``(status, body, headers)`` into the framework's
response (``handle_response``), and answer Authlib's storage callbacks (``query_client``,
``query_token``, ``revoke_token``, ``save_token``).

Authlib calls those callbacks synchronously, and the hub's database is async. So the I/O
happens around Authlib, not inside it (``hub.auth.routes``): before Authlib runs, the request's
form is read and the clients it could authenticate as, and the token it presents, are loaded;
Authlib then makes every protocol decision (client authentication, grant, scope, errors) on
that snapshot, synchronously; afterwards the revocations it asked for are written. A server
object is made per request around its snapshot: that is a handful of attribute assignments.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    ClientCredentialsGrant,
    ClientMixin,
    OAuth2Error,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet
from starlette.datastructures import Headers
from starlette.responses import Response

from hub.auth.authenticate import TIER_CLAIM
from hub.auth.credentials import secret_matches
from hub.auth.keys import SigningKey
from hub.auth.models import OAuthClient
from hub.auth.principal import Tier
from hub.auth.scopes import SCOPES, format_scope, parse_scope
from hub.auth.tokens import HubToken

GRANT_TYPES = ("client_credentials",)
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class FormRequest(OAuth2Request):  # type: ignore[misc]  # Authlib is untyped
    """A token, introspection or revocation request whose form has been read already.

    Authlib refuses a URI that is not https (or http on a loopback address) here, with
    ``InsecureTransportError``: OAuth2 sends secrets and bearer tokens.
    """

    def __init__(self, method: str, uri: str, headers: Headers, form: Mapping[str, str]) -> None:
        super().__init__(method, uri, headers=headers)
        self._form = dict(form)
        self.payload = BasicOAuth2Payload(self._form)

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


class HubClient(ClientMixin):  # type: ignore[misc]
    """A stored client as Authlib sees it: confidential, client credentials grant only."""

    def __init__(self, client: OAuthClient) -> None:
        self.client_id = client.client_id
        self.tier = client.tier
        self.scopes = client.scopes
        self._secret_hash = client.secret_hash

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """All granted scopes when none are asked for; None (``invalid_scope``) when more are."""
        if not scope:
            return format_scope(self.scopes)
        requested = parse_scope(scope)
        return format_scope(requested) if requested <= self.scopes else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(client_secret, self._secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in CLIENT_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


class ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS


class AccessTokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 JWT access tokens signed with ``key``, carrying the client's tier.

    Made per token request around the key that signs at that moment (``hub.auth.signing``),
    whose algorithm the header names and whose ``kid`` joserfc writes into it.
    """

    def __init__(self, key: SigningKey, *, issuer: str, audience: str, lifetime: int) -> None:
        super().__init__(issuer=issuer, alg=key.alg, expires_generator=lifetime)
        self.key = key
        self.audience = audience

    def get_jwks(self) -> KeySet:
        return self.key.private_key_set()

    def get_audiences(self, client: HubClient, user: object, scope: str) -> str:
        return self.audience

    def get_extra_claims(
        self, client: HubClient, grant_type: str, user: object, scope: str
    ) -> dict[str, Any]:
        return {TIER_CLAIM: client.tier.label}

    def get_jti(self, client: HubClient, grant_type: str, user: object, scope: str) -> str:
        return secrets.token_urlsafe(18)


class PresentedToken:
    """A token presented for introspection or revocation, as Authlib's ``TokenMixin`` sees it."""

    def __init__(self, token: HubToken, *, active: bool) -> None:
        self.token = token
        self.active = active

    def check_client(self, client: HubClient) -> bool:
        return self.token.token.client_id == client.client_id

    def is_expired(self) -> bool:
        return self.token.token.expires_at <= int(time.time())

    def is_revoked(self) -> bool:
        return not self.active


@dataclass
class Snapshot:
    """What one request may need from the database, loaded before Authlib runs."""

    clients: Mapping[str, HubClient] = field(default_factory=dict)
    token: PresentedToken | None = None
    token_string: str | None = None
    revoked: list[PresentedToken] = field(default_factory=list)

    def find_token(self, token_string: str) -> PresentedToken | None:
        return self.token if token_string == self.token_string else None


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    """RFC 7662. A partner client may introspect its own tokens; an internal one any token."""

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def query_token(self, token_string: str, token_type_hint: str | None) -> PresentedToken | None:
        return self.snapshot.find_token(token_string)

    def check_permission(self, token: PresentedToken, client: HubClient, request: Any) -> bool:
        return client.tier is Tier.INTERNAL or token.check_client(client)

    def introspect_token(self, token: PresentedToken) -> dict[str, Any]:
        verified = token.token.token
        return {
            "active": True,
            "token_type": "Bearer",
            "client_id": verified.client_id,
            "scope": format_scope(token.token.scopes),
            "sub": verified.subject,
            "aud": verified.claims["aud"],
            "iss": verified.issuer,
            "exp": verified.expires_at,
            "iat": verified.issued_at,
            "jti": verified.jti,
            TIER_CLAIM: token.token.tier.label,
        }


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009. A client may revoke its own tokens; the jti is written after Authlib returns."""

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def query_token(self, token_string: str, token_type_hint: str | None) -> PresentedToken | None:
        return self.snapshot.find_token(token_string)

    def revoke_token(self, token: PresentedToken, request: Any) -> None:
        self.snapshot.revoked.append(token)


def to_response(status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
    """Authlib's ``(status, body, headers)`` as a Starlette response."""
    content = body if isinstance(body, str | bytes) else orjson.dumps(body)
    return Response(content, status_code=status, headers=dict(headers))


def error_response(error: OAuth2Error) -> Response:
    return to_response(*error())


class HubAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's server for one request, answering its callbacks from ``snapshot``."""

    def __init__(self, generator: AccessTokenGenerator | None, snapshot: Snapshot) -> None:
        super().__init__(scopes_supported=sorted(SCOPES))
        self.snapshot = snapshot
        # Introspection and revocation issue no token, and need no signing key.
        if generator is not None:
            self.register_token_generator("default", generator)
        self.register_grant(ClientCredentials)
        self.register_endpoint(Introspection(snapshot))
        self.register_endpoint(Revocation(snapshot))

    def query_client(self, client_id: str) -> HubClient | None:
        return self.snapshot.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Nothing to store: a JWT access token carries all it says, and revocation is by jti."""

    def create_oauth2_request(self, request: FormRequest) -> FormRequest:
        return request

    def create_json_request(self, request: object) -> None:
        raise NotImplementedError("the hub has no JSON endpoints of OAuth2")

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        return to_response(status, body, headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib's hook for framework signals; the hub listens to none."""
