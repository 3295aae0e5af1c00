"""The /graphql endpoint: authenticate, pick the caller's tier schema, run Strawberry's view."""

from __future__ import annotations

import orjson
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from hub.auth.authenticate import Authenticator
from hub.auth.errors import UnauthenticatedError
from hub.auth.principal import ANONYMOUS, Tier
from hub.db import HubSession
from schema.build import build_schema
from schema.context import Context


class TierGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view over one tier's schema."""

    def __init__(
        self, tier: Tier, sessionmaker: async_sessionmaker[HubSession], *, graphiql: bool
    ) -> None:
        super().__init__(
            build_schema(tier),
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=True,
        )
        self.sessionmaker = sessionmaker

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        principal = request.scope.get("state", {}).get("principal", ANONYMOUS)
        return Context(
            principal=principal,
            sessionmaker=self.sessionmaker,
            request=request if isinstance(request, Request) else None,
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


class GraphQLEndpoint:
    """Authenticates the caller, then hands the request to the schema of the caller's tier.

    Each tier has a schema of its own, so a field a tier may not see does not exist for it:
    not in introspection, not in validation messages, not in suggestions.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[HubSession],
        authenticator: Authenticator,
        *,
        graphiql: bool,
    ) -> None:
        self.authenticator = authenticator
        self.views = {tier: TierGraphQL(tier, sessionmaker, graphiql=graphiql) for tier in Tier}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        try:
            principal = await self.authenticator.authenticate(request.headers.get("authorization"))
        except UnauthenticatedError as error:
            await _unauthenticated(error)(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.views[principal.tier](scope, receive, send)


def _unauthenticated(error: UnauthenticatedError) -> Response:
    body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
    description = error.message.replace('"', "'")
    return Response(
        orjson.dumps(body),
        status_code=401,
        media_type="application/json",
        headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'
        },
    )
