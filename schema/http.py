"""The /graphql endpoint: Strawberry's ASGI view with the hub's context and JSON encoder."""

from __future__ import annotations

import orjson
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from hub.auth.principal import ANONYMOUS, Tier
from hub.db import HubSession
from schema.build import build_schema
from schema.context import Context


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, sessionmaker: async_sessionmaker[HubSession], *, graphiql: bool) -> None:
        super().__init__(
            build_schema(Tier.PUBLIC),
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=True,
        )
        self.sessionmaker = sessionmaker

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        return Context(
            principal=ANONYMOUS,
            sessionmaker=self.sessionmaker,
            request=request if isinstance(request, Request) else None,
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)
