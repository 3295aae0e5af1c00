"""The /graphql endpoint: authenticate, pick the caller's tier schema, run Strawberry's view."""

from __future__ import annotations

import logging

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
from hub.config import Settings
from hub.db import HubSession
from hub.ratelimit import RateLimiter
from schema.build import build_schema
from schema.compiled.endpoint import CompiledReads
from schema.context import Context
from schema.federation import Subgraph
from schema.federation.schema import build_subgraph
from schema.guard import Guard, unsupported_media_type

log = logging.getLogger("hub.auth")


class TierGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view over one tier's schema."""

    def __init__(
        self,
        tier: Tier,
        sessionmaker: async_sessionmaker[HubSession],
        *,
        graphiql: bool,
        subgraph: Subgraph | None = None,
        settings: Settings,
    ) -> None:
        production, limits = settings.is_production, settings.limits.of(tier)
        schema = (
            build_schema(tier, production=production, limits=limits)
            if subgraph is None
            else build_subgraph(subgraph, tier, production=production, limits=limits)
        )
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            # Cacheable reads over GET; Strawberry refuses a mutation sent by GET before it runs.
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
    not in introspection, not in validation messages, not in suggestions. With ``subgraph``
    the schemas are those of one federation subgraph, for a router in front of the hub.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[HubSession],
        authenticator: Authenticator,
        *,
        graphiql: bool,
        subgraph: Subgraph | None = None,
        settings: Settings,
        limiter: RateLimiter,
    ) -> None:
        self.authenticator = authenticator
        self.guard = Guard(limiter, settings.limits)
        self.views = {
            tier: TierGraphQL(
                tier, sessionmaker, graphiql=graphiql, subgraph=subgraph, settings=settings
            )
            for tier in Tier
        }
        engine = sessionmaker.kw["bind"]
        self.compiled = (
            CompiledReads(
                engine,
                {tier: view.schema for tier, view in self.views.items()},
                settings.limits,
                concurrency=settings.database_concurrency or settings.database_pool_size,
            )
            if settings.compile_queries and subgraph is None and engine.dialect.name == "postgresql"
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        try:
            principal = await self.authenticator.authenticate(request.headers.get("authorization"))
        except UnauthenticatedError as error:
            admission = await self.guard.admit(request, None)
            answer = admission.refusal or _unauthenticated(error)
            await answer(scope, receive, admission.stamp(send))
            return
        except Exception:
            # Checking a token needs the database (revocations, the client's status); when it
            # is down the caller may retry, and must not be served as the public instead.
            log.exception("could not check credentials")
            await _unavailable()(scope, receive, send)
            return
        admission = await self.guard.admit(request, principal)
        refusal = admission.refusal or unsupported_media_type(request)
        if refusal is not None:
            await refusal(scope, receive, admission.stamp(send))
            return
        scope.setdefault("state", {})["principal"] = principal
        send = admission.stamp(send)
        if self.compiled is not None and scope["method"] in ("GET", "POST"):
            replay = await self.compiled.serve(principal.tier, scope, receive, send)
            if replay is None:
                return
            receive = replay
        await self.views[principal.tier](scope, receive, send)


def _unavailable() -> Response:
    body = {
        "errors": [
            {
                "message": "Credentials cannot be checked right now; try again shortly.",
                "extensions": {"code": "UNAVAILABLE"},
            }
        ]
    }
    return Response(
        orjson.dumps(body),
        status_code=503,
        media_type="application/json",
        headers={"Retry-After": "5"},
    )


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
