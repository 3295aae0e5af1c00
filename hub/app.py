"""create_app(): routes, middleware and lifespan of the hub."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from hub.auth.authenticate import Authenticator
from hub.config import Settings, get_settings
from hub.db import HubSession, create_engine, create_sessionmaker

log = logging.getLogger("hub")


def create_app(
    settings: Settings | None = None,
    *,
    sessionmaker: async_sessionmaker[HubSession] | None = None,
) -> Starlette:
    """The ASGI app. Tests pass a ``sessionmaker`` bound to their own transaction."""
    from schema.http import GraphQLEndpoint

    settings = settings or get_settings()
    engine = None
    if sessionmaker is None:
        engine = create_engine(
            settings.database_url, echo=settings.sql_echo, pool_size=settings.database_pool_size
        )
        sessionmaker = create_sessionmaker(engine)
    maker = sessionmaker

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if engine is not None:
                await engine.dispose()

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        try:
            async with maker() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            log.exception("readiness check failed")
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok", "database": "reachable"})

    async def root(_: Request) -> RedirectResponse:
        return RedirectResponse("/graphql")

    graphql = GraphQLEndpoint(
        maker, Authenticator(settings, maker), graphiql=not settings.is_production
    )
    return Starlette(
        routes=[
            Route("/", root),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
