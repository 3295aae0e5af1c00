"""create_app(): routes, middleware and lifespan of the hub."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from hub.auth.authenticate import Authenticator
from hub.auth.routes import OAuthEndpoints
from hub.config import Settings, get_settings
from hub.db import HubSession, create_engine, create_sessionmaker
from hub.ratelimit import create_rate_limiter
from search.indexer import sync_forever
from search.service import SearchService

log = logging.getLogger("hub")


def create_app(
    settings: Settings | None = None,
    *,
    sessionmaker: async_sessionmaker[HubSession] | None = None,
    subgraph: str | None = None,
) -> Starlette:
    """The ASGI app. Tests pass a ``sessionmaker`` bound to their own transaction.

    With ``subgraph`` (``credit``, ``quality``, ...) /graphql serves that federation subgraph
    alone, for a router; without it, the whole graph.
    """
    from schema.federation import Subgraph
    from schema.http import GraphQLEndpoint

    settings = settings or get_settings()
    engine = None
    if sessionmaker is None:
        engine = create_engine(
            settings.database_url, echo=settings.sql_echo, pool_size=settings.database_pool_size
        )
        sessionmaker = create_sessionmaker(engine)
    maker = sessionmaker
    limiter = create_rate_limiter(settings.redis_url)
    search = SearchService.from_settings(settings)

    # The search outbox relay: changes reach the indexes after their commit. The whole graph
    # and the search subgraph run one; the other subgraphs leave it to them.
    relays = subgraph is None or subgraph == "search"

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # What start-up built (schemas, the ORM's mappers, ...) lives as long as the process:
        # frozen, the collector no longer walks it on every full collection, which otherwise
        # stalls all of a worker's requests for tens of milliseconds at a time.
        gc.collect()
        gc.freeze()
        relay = (
            asyncio.create_task(sync_forever(maker, search.elastic, settings.search_sync_interval))
            if relays
            else None
        )
        try:
            yield
        finally:
            if relay is not None:
                relay.cancel()
                await asyncio.gather(relay, return_exceptions=True)
            await search.close()
            await limiter.aclose()
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

    authenticator = Authenticator(settings, maker)
    graphql = GraphQLEndpoint(
        maker,
        authenticator,
        graphiql=not settings.is_production,
        subgraph=Subgraph(subgraph) if subgraph else None,
        settings=settings,
        limiter=limiter,
    )
    app = Starlette(
        routes=[
            Route("/", root),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *OAuthEndpoints(authenticator).routes(),
        ],
        lifespan=lifespan,
    )
    app.state.search = search
    return app


#: The subgraph ``create_subgraph_app`` serves; ``hub serve --subgraph NAME`` sets it.
SUBGRAPH_ENV = "HUB_SUBGRAPH"


def create_subgraph_app() -> Starlette:
    """The app of the subgraph named by ``HUB_SUBGRAPH``.

    A factory without arguments, because uvicorn's workers import the app by name.
    """
    return create_app(subgraph=os.environ[SUBGRAPH_ENV])
