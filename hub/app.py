"""create_app(): routes, middleware and lifespan of the hub."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.auth.authenticate import Authenticator
from hub.auth.errors import UnauthenticatedError
from hub.auth.principal import ANONYMOUS, Tier
from hub.auth.routes import OAuthEndpoints
from hub.config import Settings, get_settings
from hub.db import (
    RETRY_AFTER_SECONDS,
    DatabaseTimeouts,
    DatabaseUnavailableError,
    HubSession,
    create_engine,
    create_sessionmaker,
    health_of,
)
from hub.kit.breaker import Breaker
from hub.kit.memo import FIGURES_STATEMENT_SECONDS, SlowReads
from hub.kit.time import utcnow
from hub.observability.metrics import (
    CONTENT_TYPE,
    OutboxLag,
    Sampler,
    exposition,
    multiprocess,
    process_exits,
    watch_pool,
)
from hub.observability.requests import Observed
from hub.observability.tracing import install_tracing, otlp_endpoint
from hub.portal.pages import Portal
from hub.portal.reads import Admission, Answer, PublicBudget, PublicReads
from hub.portal.reports import ReportPages
from hub.ratelimit import Rate, RateLimiter, RedisRateLimiter, create_rate_limiter
from hub.report.font import missing_font_message
from hub.report.service import CreditReportLedger
from hub.report.signing import LazySigner
from search.indexer import sync_forever
from search.outbox import ELASTICSEARCH, EMBEDDED, lag
from search.service import SearchService

if TYPE_CHECKING:
    from schema.guard import Guard
    from schema.http import GraphQLEndpoint

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
    from schema.guard import TrustedRouters
    from schema.http import GraphQLEndpoint

    settings = settings or get_settings()
    engine = None
    if sessionmaker is None:
        engine = create_engine(
            settings.database_url,
            echo=settings.sql_echo,
            pool_size=settings.database_pool_size,
            timeouts=DatabaseTimeouts(
                connect=settings.database_connect_timeout,
                acquire=settings.database_acquire_timeout,
                statement=settings.database_statement_timeout,
                retry_interval=settings.database_retry_interval,
            ),
        )
        sessionmaker = create_sessionmaker(engine)
    maker = sessionmaker
    # The public statistics read millions of rows: on connections of their own, whose
    # statements may take longer than a request's, and kept a while (hub.kit.memo). SQLite's
    # statements have no timeout to lift.
    figures_engine = None
    if engine is not None and engine.dialect.name == "postgresql":
        figures_engine = create_engine(
            settings.database_url,
            pool_size=2,
            timeouts=DatabaseTimeouts(
                connect=settings.database_connect_timeout,
                acquire=FIGURES_STATEMENT_SECONDS,
                statement=FIGURES_STATEMENT_SECONDS,
                retry_interval=settings.database_retry_interval,
            ),
        )
    # A test's sessionmaker runs every session on its one connection, inside its transaction:
    # there the request's own session reads them (schema.statistics).
    figures = None
    if engine is not None:
        figures = SlowReads.of(create_sessionmaker(figures_engine) if figures_engine else maker)
    limiter = create_rate_limiter(settings.redis_url)
    search = SearchService.from_settings(settings)
    bound = _engine_of(maker)
    watch_pool(bound)
    sampler = Sampler(engines=[bound], breakers=_breakers(bound, limiter, search))
    endpoint = otlp_endpoint(settings.otlp_endpoint)
    tracing = install_tracing(bound, endpoint) if endpoint is not None else None

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
        # Building SQL and GraphQL documents leaves reference cycles behind (SQLAlchemy's
        # selects and their columns, graphql-core's visitors): about 1,500 objects of cyclic
        # garbage per search. Python's default thresholds (700, 10, 10) then run a full
        # collection every twenty-odd searches, 120-200 ms each at 1M enterprises on 2 cores.
        # Collections of the youngest objects at 50,000 and full ones rarely: half the time
        # in collections (1.0 s against 2.0 s of pauses over 800 searches of the benchmark's
        # set), p95 128 and 132 ms against 136 and 148 in two pairs of runs.
        gc.set_threshold(*GC_THRESHOLDS)
        relay = (
            asyncio.create_task(
                sync_forever(
                    maker,
                    search.elastic,
                    settings.search_sync_interval,
                    settings.search_heads_interval,
                )
            )
            if relays
            else None
        )
        # With several workers, each reports its pool and breakers for the one that is scraped.
        sampling = asyncio.create_task(_sample_forever(sampler)) if multiprocess() else None
        ahead = (
            asyncio.create_task(_read_ahead(figures))
            if figures is not None and subgraph in (None, "statistics")
            else None
        )
        try:
            yield
        finally:
            for task in (relay, sampling, ahead):
                if task is not None:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
            await search.close()
            await limiter.aclose()
            for disposed in (engine, figures_engine):
                if disposed is not None:
                    await disposed.dispose()
            if tracing is not None:
                tracing.close()
            process_exits()

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        # Within the database timeouts, like any request; an outage is logged by hub.db, once.
        try:
            async with maker() as session:
                await session.execute(text("SELECT 1"))
        except DatabaseUnavailableError as error:
            return _not_ready(error.outage.kind.value)
        except Exception:
            log.exception("readiness check failed")
            return _not_ready("unreachable")
        # Searches fall back to the embedded index, so the hub is ready either way; the body
        # says which index answers them, and why not Elasticsearch.
        searching = await search.readiness()
        return JSONResponse({"status": "ok", "database": "reachable", "search": searching})

    authenticator = Authenticator(settings, maker)

    async def metrics(request: Request) -> Response:
        refusal = await _internal_only(authenticator, request)
        if refusal is not None:
            return refusal
        sampler.refresh()
        lags = await _outbox_lags(maker, search)
        return Response(exposition(lags), media_type=CONTENT_TYPE)

    graphql = GraphQLEndpoint(
        maker,
        authenticator,
        graphiql=not settings.is_production,
        subgraph=Subgraph(subgraph) if subgraph else None,
        settings=settings,
        limiter=limiter,
    )
    # The portal's pages are the whole graph's; a subgraph serves /graphql for a router only.
    # GraphiQL's scripts are under /static, so every process serves those.
    portal = (
        Portal(
            _public_reads(graphql, maker),
            _public_budget(graphql.guard),
            sdl=graphql.views[Tier.PUBLIC].schema.as_str() + "\n",
            limits=settings.limits.public,
            production=settings.is_production,
        )
        if subgraph is None
        else None
    )
    pages: list[BaseRoute] = portal.routes() if portal is not None else []
    if portal is not None:
        pages += _report_pages(portal, maker, limiter, settings).routes()
    app = Starlette(
        routes=[
            # Every method reaches the endpoint, which answers the ones it does not serve with
            # JSON. First: the router tries the routes in turn, and most requests are these.
            Route("/graphql", graphql),
            *pages,
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *OAuthEndpoints(authenticator).routes(),
            Portal.assets(),
        ],
        exception_handlers={404: portal.not_found} if portal is not None else {},
        middleware=[
            # Outermost: every response carries its request id, whoever wrote it.
            Middleware(Observed),
            *([tracing.middleware()] if tracing is not None else []),
            # The whole app: the OAuth endpoints need the scheme a trusted proxy forwards, too.
            Middleware(TrustedRouters, routers=settings.trusted_routers),
        ],
        lifespan=lifespan,
    )
    app.state.search = search
    app.state.figures = figures
    app.state.tracing = tracing
    return app


async def _read_ahead(figures: SlowReads) -> None:
    """The slowest public statistics, read as the app starts (a failure is only logged: the
    first request reads them again)."""
    from schema.statistics.types import read_ahead

    try:
        await read_ahead(figures, utcnow())
    except Exception:
        log.warning("reading the statistics ahead failed", exc_info=True)


def _public_reads(
    graphql: GraphQLEndpoint, sessionmaker: async_sessionmaker[HubSession]
) -> PublicReads:
    """The portal's reads: the public tier's schema, as an anonymous /graphql request runs it.

    Compiled first, as /graphql (unless ``compile_queries`` is off), then Strawberry with its
    extensions (limits, input rules, error masking, the operation's session): never a wider
    read.
    """
    from schema.context import Context

    schema = graphql.views[Tier.PUBLIC].schema
    compiled = graphql.compiled

    async def read(request: Request, document: str, variables: Mapping[str, Any]) -> Answer:
        if compiled is not None:
            try:
                body = await compiled.answer(Tier.PUBLIC, document, dict(variables))
            except DatabaseUnavailableError as error:
                # What the resolvers would answer: the portal shows its 503 page.
                return Answer(
                    None, ({"message": error.message, "extensions": {"code": error.code}},)
                )
            if body is not None:
                return Answer(orjson.loads(body)["data"])
        context = Context(principal=ANONYMOUS, sessionmaker=sessionmaker, request=request)
        result = await schema.execute(
            document, variable_values=dict(variables), context_value=context
        )
        return Answer(result.data, tuple(error.formatted for error in result.errors or ()))

    return read


def _not_ready(database: str) -> JSONResponse:
    return JSONResponse(
        {"status": "unavailable", "database": database},
        503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _public_budget(guard: Guard) -> PublicBudget:
    """A page spends what an anonymous /graphql request from its address spends."""

    async def admit(request: Request) -> Admission:
        admission = await guard.admit(request, ANONYMOUS)
        decision = admission.decision
        return Admission(decision.allowed, admission.headers, decision.retry_after)

    return admit


def _report_pages(
    portal: Portal,
    sessionmaker: async_sessionmaker[HubSession],
    limiter: RateLimiter,
    settings: Settings,
) -> ReportPages:
    """Credit reports and /verify: the portal's public reads, the report ledger in the
    database, and two budgets per address of their own, in the limiter of the API's budgets."""
    reports = settings.reports
    if not reports.font_path.is_file():
        # The rest of the hub works without it; reports answer 503 with the same message.
        log.warning("credit reports are unavailable: %s", missing_font_message(reports.font_path))
    return ReportPages(
        portal,
        CreditReportLedger(sessionmaker),
        report_budget=_address_budget(
            limiter, Rate(reports.rate_limit, reports.rate_window), "report"
        ),
        verify_budget=_address_budget(
            limiter, Rate(reports.verify_rate_limit, reports.verify_rate_window), "verify"
        ),
        base_url=settings.base_url,
        settings=reports,
        signer=LazySigner(settings.report_signing_key_path),
    )


def _address_budget(limiter: RateLimiter, rate: Rate, name: str) -> PublicBudget:
    """A budget of ``rate`` per caller address (the address the API's public budget counts,
    proxies believed as there), apart from the API's: ``name`` keeps the keys apart."""
    from schema.guard import Admission as RateAdmission
    from schema.guard import budget_key

    async def admit(request: Request) -> Admission:
        decision = await limiter.hit(f"{name}:{budget_key(request, None)}", rate)
        return Admission(decision.allowed, RateAdmission(decision).headers, decision.retry_after)

    return admit


def _engine_of(sessionmaker: async_sessionmaker[HubSession]) -> AsyncEngine:
    """The engine behind the sessions (a test binds them to one connection of it)."""
    bind = sessionmaker.kw["bind"]
    return bind if isinstance(bind, AsyncEngine) else bind.engine


def _breakers(engine: AsyncEngine, limiter: RateLimiter, search: SearchService) -> list[Breaker]:
    """The app's circuit breakers in front of other services, for ``hub_breaker_state``."""
    found = [search.breaker] if search.elastic is not None else []
    if isinstance(limiter, RedisRateLimiter):
        found.append(limiter.breaker)
    health = health_of(engine)
    if health is not None:
        found.append(health.breaker)
    return found


async def _sample_forever(sampler: Sampler, interval: float = 5.0) -> None:
    while True:
        sampler.refresh()
        await asyncio.sleep(interval)


async def _internal_only(authenticator: Authenticator, request: Request) -> Response | None:
    """/metrics is the internal tier's: 401 without valid credentials, 403 for a partner."""
    try:
        principal = await authenticator.authenticate(request.headers.get("authorization"))
    except UnauthenticatedError as error:
        return _refusal(401, error.code, error.message, {"WWW-Authenticate": "Bearer"})
    except Exception as error:
        if not isinstance(error, DatabaseUnavailableError):  # an outage hub.db logs, once
            log.exception("could not check the credentials of a scrape")
        message = "Credentials cannot be checked right now; try again shortly."
        return _refusal(503, "UNAVAILABLE", message, {"Retry-After": str(RETRY_AFTER_SECONDS)})
    if principal.tier is Tier.PUBLIC:
        message = "Metrics need a bearer token of the internal tier."
        return _refusal(401, "UNAUTHENTICATED", message, {"WWW-Authenticate": "Bearer"})
    if principal.tier < Tier.INTERNAL:
        return _refusal(403, "FORBIDDEN", "Metrics are for the internal tier only.", {})
    return None


def _refusal(status: int, code: str, message: str, headers: dict[str, str]) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status, headers=headers)


async def _outbox_lags(
    sessionmaker: async_sessionmaker[HubSession], search: SearchService
) -> list[OutboxLag]:
    """Each search backend's outbox, read for a scrape; none while the database is away."""
    targets = [EMBEDDED, *([ELASTICSEARCH] if search.elastic is not None else [])]
    try:
        async with sessionmaker() as session:
            found = [await lag(session, target) for target in targets]
    except Exception as error:
        log.warning("metrics: the search outbox could not be read (%s)", type(error).__name__)
        return []
    now = utcnow()
    return [OutboxLag(f.target, f.pending, f.seconds(now)) for f in found]


#: The collector's thresholds in a serving process (``gc.set_threshold``), set at start-up.
GC_THRESHOLDS = (50_000, 20, 100)


#: The subgraph ``create_subgraph_app`` serves; ``hub serve --subgraph NAME`` sets it.
SUBGRAPH_ENV = "HUB_SUBGRAPH"


def create_subgraph_app() -> Starlette:
    """The app of the subgraph named by ``HUB_SUBGRAPH``.

    A factory without arguments, because uvicorn's workers import the app by name.
    """
    return create_app(subgraph=os.environ[SUBGRAPH_ENV])
