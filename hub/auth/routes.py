"""The OAuth2 routes: token, introspection, revocation, JWKS and server metadata.

Each POST endpoint reads the form, loads from the database what Authlib may ask about, runs
Authlib's server on that snapshot (``hub.auth.server``), and writes what it decided. Clients
send ``application/x-www-form-urlencoded`` bodies (RFC 6749 §4.4.2, RFC 7662 §2.1,
RFC 7009 §2.1), each parameter at most once (RFC 6749 §3.2).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import (
    InsecureTransportError,
    InvalidClientError,
    InvalidRequestError,
)
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.auth.authenticate import Authenticator
from hub.auth.errors import UnauthenticatedError
from hub.auth.keys import SigningKey, SigningKeyError
from hub.auth.repository import ClientRepository
from hub.auth.scopes import SCOPES
from hub.auth.server import (
    CLIENT_AUTH_METHODS,
    GRANT_TYPES,
    AccessTokenGenerator,
    FormRequest,
    HubAuthorizationServer,
    HubClient,
    PresentedToken,
    Snapshot,
    error_response,
)
from hub.auth.signing import jwks_max_age
from hub.auth.tokens import read_token
from hub.db import RETRY_AFTER_SECONDS, DatabaseUnavailableError, HubSession, transaction
from hub.kit.time import utcnow

log = logging.getLogger("hub.auth")
T = TypeVar("T")

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
#: A token request is a few hundred bytes; a JWT to introspect a kilobyte or two.
MAX_FORM_BYTES = 16 * 1024
MAX_FORM_FIELDS = 16
TOKEN_PATH = "/oauth/token"
INTROSPECTION_PATH = "/oauth/introspect"
REVOCATION_PATH = "/oauth/revoke"
JWKS_PATH = "/.well-known/jwks.json"
METADATA_PATH = "/.well-known/oauth-authorization-server"


class FormError(Exception):
    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class OAuthEndpoints:
    """The Starlette endpoints of the hub's authorization server."""

    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator
        self.settings = authenticator.settings
        self.sessionmaker = authenticator.sessionmaker
        self.jwks_max_age = jwks_max_age(
            self.settings.signing_key_activation_delay_seconds, self.settings.auth_cache_seconds
        )

    def routes(self) -> list[Route]:
        return [
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(INTROSPECTION_PATH, self.introspect, methods=["POST"]),
            Route(REVOCATION_PATH, self.revoke, methods=["POST"]),
            Route(JWKS_PATH, self.jwks, methods=["GET"]),
            Route(METADATA_PATH, self.metadata, methods=["GET"]),
        ]

    async def token(self, request: Request) -> Response:
        """RFC 6749 §4.4: the client credentials grant, answered with an RFC 9068 JWT."""
        try:
            form_request = await _form_request(request)
            async with self.sessionmaker() as session:
                snapshot = Snapshot(clients=await _candidate_clients(session, form_request))
            signer = await _guarded(self.authenticator.signing_keys.signer())
        except _RefusedError as refusal:
            return refusal.response
        response: Response = self._server(snapshot, signer).create_token_response(form_request)
        return response

    async def introspect(self, request: Request) -> Response:
        """RFC 7662: whether a token is active, i.e. would be accepted on /graphql right now."""
        try:
            form_request = await _form_request(request)
            async with self.sessionmaker() as session:
                snapshot = Snapshot(clients=await _candidate_clients(session, form_request))
                await self._presented_token(session, form_request, snapshot, check_client=True)
        except _RefusedError as refusal:
            return refusal.response
        server = self._server(snapshot)
        response: Response = server.create_endpoint_response("introspection", form_request)
        return response

    async def revoke(self, request: Request) -> Response:
        """RFC 7009: refuse a token from now on, by its jti, until it expires."""
        try:
            form_request = await _form_request(request)
            async with self.sessionmaker() as session:
                snapshot = Snapshot(clients=await _candidate_clients(session, form_request))
                await self._presented_token(session, form_request, snapshot, check_client=False)
        except _RefusedError as refusal:
            return refusal.response
        server = self._server(snapshot)
        response: Response = server.create_endpoint_response("revocation", form_request)
        if snapshot.revoked:
            try:
                async with transaction(self.sessionmaker) as session:
                    clients = ClientRepository(session)
                    for presented in snapshot.revoked:
                        verified = presented.token.token
                        await clients.revoke_token(
                            verified.jti,
                            verified.client_id,
                            datetime.fromtimestamp(verified.expires_at, UTC),
                            utcnow(),
                        )
            except DatabaseUnavailableError:
                return _unavailable()
            except SQLAlchemyError:
                log.exception("cannot store a token revocation")
                return _unavailable()
            # Stored: this process refuses the tokens at once, the others within the bound.
            for presented in snapshot.revoked:
                self.authenticator.standings.revoked(presented.token.token.jti)
        return response

    async def jwks(self, _: Request) -> Response:
        """The public keys that verify the hub's tokens (RFC 7517), pending ones too."""
        try:
            ring = await _guarded(self.authenticator.signing_keys.ring())
        except _RefusedError as refusal:
            return refusal.response
        return JSONResponse(
            ring.jwks(), headers={"cache-control": f"public, max-age={self.jwks_max_age}"}
        )

    async def metadata(self, _: Request) -> Response:
        """Authorization server metadata (RFC 8414)."""
        return JSONResponse(authorization_server_metadata(self.settings.issuer))

    def _server(
        self, snapshot: Snapshot, signer: SigningKey | None = None
    ) -> HubAuthorizationServer:
        """Authlib's server; ``signer`` signs the tokens it issues (introspection and
        revocation issue none)."""
        generator = (
            AccessTokenGenerator(
                signer,
                issuer=self.settings.issuer,
                audience=self.settings.audience,
                lifetime=self.settings.token_lifetime_seconds,
            )
            if signer is not None
            else None
        )
        return HubAuthorizationServer(generator, snapshot)

    async def _presented_token(
        self,
        session: HubSession,
        form_request: FormRequest,
        snapshot: Snapshot,
        *,
        check_client: bool,
    ) -> None:
        """Load the token of the form if it is a valid token of the hub; else leave it unknown.

        Authlib answers an unknown token as RFC 7662 and RFC 7009 require: ``active: false``
        for introspection, a plain 200 for revocation.
        """
        token_string = form_request.form.get("token")
        if not token_string:
            return
        try:
            unverified = read_token(token_string)
            if unverified.issuer != self.settings.issuer:
                return
            hub_token = await _guarded(self.authenticator.verify_hub_token(unverified))
        except UnauthenticatedError:
            return
        active = True
        if check_client:
            try:
                await _guarded(self.authenticator.check_client(hub_token, session))
            except UnauthenticatedError:
                active = False
        snapshot.token = PresentedToken(hub_token, active=active)
        snapshot.token_string = token_string


def authorization_server_metadata(issuer: str) -> dict[str, Any]:
    issuer = issuer.rstrip("/")
    auth_methods = list(CLIENT_AUTH_METHODS)
    return {
        "issuer": issuer,
        "token_endpoint": issuer + TOKEN_PATH,
        "jwks_uri": issuer + JWKS_PATH,
        "introspection_endpoint": issuer + INTROSPECTION_PATH,
        "revocation_endpoint": issuer + REVOCATION_PATH,
        "scopes_supported": sorted(SCOPES),
        # No authorization endpoint: machine clients only, so no response type either.
        "response_types_supported": [],
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
    }


class _RefusedError(Exception):
    """A request answered before Authlib runs: malformed, insecure, or the database is down."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _form_request(request: Request) -> FormRequest:
    try:
        form = await _read_form(request)
    except FormError as error:
        raise _RefusedError(error_response(InvalidRequestError(error.description))) from None
    try:
        extract_basic_authorization(request.headers)
    except UnicodeDecodeError:
        # Authlib would raise this from inside its client authentication.
        malformed = InvalidClientError(status_code=401, description="Malformed Basic credentials.")
        raise _RefusedError(error_response(malformed)) from None
    try:
        return FormRequest(request.method, str(request.url), request.headers, form)
    except InsecureTransportError as error:
        raise _RefusedError(error_response(error)) from None


async def _read_form(request: Request) -> Mapping[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_CONTENT_TYPE:
        raise FormError(f"Send the parameters as {FORM_CONTENT_TYPE}.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError("The request body is too large.")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=bool(body),
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise FormError("The request body is not a valid form.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise FormError(f"Repeated parameter {name!r}.")
        form[name] = value
    return form


async def _candidate_clients(session: HubSession, request: FormRequest) -> dict[str, HubClient]:
    """The active clients this request could authenticate as: by HTTP Basic or by the form."""
    basic_id, _ = extract_basic_authorization(request.headers)
    ids = {client_id for client_id in (basic_id, request.form.get("client_id")) if client_id}
    clients = await _guarded(ClientRepository(session).active(ids))
    return {client_id: HubClient(client) for client_id, client in clients.items()}


async def _guarded(awaitable: Awaitable[T]) -> T:
    try:
        return await awaitable
    except DatabaseUnavailableError:
        # hub.db has said so in the log, once for the whole outage.
        raise _RefusedError(_unavailable()) from None
    except (SQLAlchemyError, OSError):
        log.exception("the database failed during an OAuth2 request")
        raise _RefusedError(_unavailable()) from None
    except SigningKeyError:
        # The first key could not be had from HUB_SIGNING_KEY_PATH: a configuration to fix.
        log.exception("no usable signing key")
        raise _RefusedError(_unavailable()) from None


def _unavailable() -> Response:
    return JSONResponse(
        {"error": "temporarily_unavailable", "error_description": "Try again later."},
        status_code=503,
        headers={"cache-control": "no-store", "retry-after": str(RETRY_AFTER_SECONDS)},
    )
