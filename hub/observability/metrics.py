"""The hub's Prometheus series, correct across the processes of ``hub serve --workers N``.

With several workers ``hub serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before they start:
prometheus-client then keeps every counter and histogram in a memory-mapped file per process,
and the worker that answers a scrape adds them all up (``MultiProcessCollector``). Gauges say
how the processes' values combine (``multiprocess_mode``): pool use is a sum over live
workers, a breaker's state the worst of them. What is the same for every process (the outbox's
lag, read from the database) is read when a scrape asks for it (``Scraped``).

Label values are bounded, so that no caller can grow the series without bound: tiers, plans
and statuses are few; operation names are counted as themselves only for the first
``OPERATION_NAMES`` distinct names a process sees, and as ``other`` after that.
"""

from __future__ import annotations

import functools
import os
import re
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.kit.breaker import Breaker, State

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

CONTENT_TYPE = CONTENT_TYPE_LATEST

OPERATION_NAMES = 200
"""Distinct operation names a process counts by name; later ones count as ``other``."""

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")

# Latency of a whole /graphql request, from the first byte in to the last byte out: a
# compiled read takes about a millisecond, a credit file through the resolvers tens.
_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

GRAPHQL_REQUESTS = Counter(
    "hub_graphql_requests",
    "Requests to /graphql by the caller's tier (unknown: refused credentials), the plan that "
    "answered (X-Hub-Plan) and the HTTP status",
    ["tier", "plan", "status"],
)
GRAPHQL_OPERATIONS = Counter(
    "hub_graphql_operations",
    "Requests to /graphql by operation name (anonymous: none; other: past the first "
    f"{OPERATION_NAMES} names a process saw)",
    ["operation"],
)
GRAPHQL_SECONDS = Histogram(
    "hub_graphql_request_duration_seconds",
    "Time to answer a /graphql request, by tier and plan",
    ["tier", "plan"],
    buckets=_SECONDS,
)
POOL_SIZE = Gauge(
    "hub_db_pool_size",
    "Database connections the pools of the live processes may hold",
    multiprocess_mode="livesum",
)
POOL_CHECKED_OUT = Gauge(
    "hub_db_pool_checked_out",
    "Database connections in use, summed over the live processes",
    multiprocess_mode="livesum",
)
POOL_WAITS = Counter(
    "hub_db_pool_waits",
    "Connection checkouts that found no idle connection in the pool (they waited for one to "
    "come back or to be opened)",
)
POOL_WAIT_SECONDS = Histogram(
    "hub_db_pool_checkout_duration_seconds",
    "Time to check a connection out of the pool, waits included",
    buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0),
)
BREAKER_STATE = Gauge(
    "hub_breaker_state",
    "Circuit breakers in front of other services: 0 closed, 1 half-open (probing), 2 open; "
    "the worst over the live processes",
    ["breaker"],
    multiprocess_mode="livemax",
)
RATE_LIMIT_REFUSALS = Counter(
    "hub_rate_limit_refusals",
    "Requests refused with 429 by the caller's rate budget, by tier",
    ["tier"],
)
TOKEN_VERIFICATIONS = Counter(
    "hub_token_verifications",
    "Bearer tokens checked, by result: accepted, refused (401), failed (could not be checked)",
    ["result"],
)

BREAKER_VALUES: Mapping[State, int] = {State.CLOSED: 0, State.HALF_OPEN: 1, State.OPEN: 2}


class OperationNames:
    """Operation names as label values: the first ``limit`` distinct ones, then ``other``."""

    def __init__(self, limit: int = OPERATION_NAMES) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self.seen:
            return name
        if len(self.seen) >= self.limit or not _NAME.fullmatch(name):
            return "other"
        self.seen.add(name)
        return name


operation_names = OperationNames()


def observe_graphql(
    tier: str, plan: str, status: int, operation: str | None, seconds: float
) -> None:
    GRAPHQL_REQUESTS.labels(tier, plan, str(status)).inc()
    GRAPHQL_OPERATIONS.labels(operation_names.label(operation)).inc()
    GRAPHQL_SECONDS.labels(tier, plan).observe(seconds)


def count_admission(tier: str, allowed: bool) -> None:
    """A rate decision of ``schema.guard``: refusals are counted."""
    if not allowed:
        RATE_LIMIT_REFUSALS.labels(tier).inc()


P = ParamSpec("P")
R = TypeVar("R")


def count_verifications(
    refused: type[Exception],
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Count what an ``authenticate(self, authorization)`` makes of the credentials it gets:
    accepted, ``refused`` raised, or failed (anything else raised: the check could not run).
    A request without credentials is no verification and is not counted."""

    def decorate(authenticate: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(authenticate)
        async def counted(*args: P.args, **kwargs: P.kwargs) -> R:
            credentials = args[1] if len(args) > 1 else kwargs.get("authorization")
            if not isinstance(credentials, str) or not credentials.strip():
                return await authenticate(*args, **kwargs)
            try:
                principal = await authenticate(*args, **kwargs)
            except refused:
                TOKEN_VERIFICATIONS.labels("refused").inc()
                raise
            except BaseException:
                TOKEN_VERIFICATIONS.labels("failed").inc()
                raise
            TOKEN_VERIFICATIONS.labels("accepted").inc()
            return principal

        return counted

    return decorate


_watched: weakref.WeakSet[Any] = weakref.WeakSet()


def watch_pool(engine: AsyncEngine) -> None:
    """Time each checkout of ``engine``'s pool and count those that found it empty.

    SQLAlchemy has events for a checkout that succeeded, none for one that starts: the pool's
    ``_do_get``, where a checkout takes or waits for a connection, is wrapped instead (again
    after ``engine.dispose()``, which makes a new pool). Idempotent per engine.
    """
    sync = engine.sync_engine
    if sync in _watched:
        return
    _watched.add(sync)
    _wrap_checkout(sync.pool)
    event.listen(sync, "engine_disposed", lambda disposed: _wrap_checkout(disposed.pool))


def _wrap_checkout(pool: Any) -> None:
    checked_in = getattr(pool, "checkedin", None)
    original = getattr(pool, "_do_get", None)
    if checked_in is None or original is None or getattr(original, "_hub_timed", False):
        return

    def timed() -> Any:
        if checked_in() == 0:
            POOL_WAITS.inc()
        started = time.perf_counter()
        try:
            return original()
        finally:
            POOL_WAIT_SECONDS.observe(time.perf_counter() - started)

    timed._hub_timed = True  # type: ignore[attr-defined]
    pool._do_get = timed


@dataclass
class Sampler:
    """What each process reports of its own state: its pools and its breakers.

    ``refresh`` sets the gauges from them; the process that answers a scrape refreshes first,
    and with several workers each refreshes every few seconds (``hub.app``'s lifespan), so a
    scrape sees the others' state as of then.
    """

    engines: list[AsyncEngine] = field(default_factory=list)
    breakers: list[Breaker] = field(default_factory=list)

    def refresh(self) -> None:
        size = used = 0
        for engine in self.engines:
            pool: Any = engine.sync_engine.pool
            if hasattr(pool, "size") and hasattr(pool, "checkedout"):
                size += int(pool.size())
                used += int(pool.checkedout())
        POOL_SIZE.set(size)
        POOL_CHECKED_OUT.set(used)
        for breaker in self.breakers:
            BREAKER_STATE.labels(breaker.name).set(BREAKER_VALUES[breaker.state])


@dataclass(frozen=True, slots=True)
class OutboxLag:
    """One search backend's outbox as a scrape reads it from the database."""

    backend: str
    pending: int
    oldest_seconds: float


class _Scraped(Collector):
    def __init__(self, lags: Iterable[OutboxLag]) -> None:
        self.lags = list(lags)

    def collect(self) -> Iterable[Metric]:
        lag = GaugeMetricFamily(
            "hub_search_outbox_lag_seconds",
            "Age of the oldest change a search backend has still to apply (0: none pending)",
            labels=["backend"],
        )
        pending = GaugeMetricFamily(
            "hub_search_outbox_pending",
            "Changes a search backend has still to apply",
            labels=["backend"],
        )
        for found in self.lags:
            lag.add_metric([found.backend], found.oldest_seconds)
            pending.add_metric([found.backend], found.pending)
        return [lag, pending]


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def exposition(lags: Iterable[OutboxLag] = ()) -> bytes:
    """The text of a scrape: every process's series, then what was read for this scrape."""
    if multiprocess():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    scraped = CollectorRegistry()
    scraped.register(_Scraped(lags))
    return body + generate_latest(scraped)


def process_exits() -> None:
    """A worker's last word: its live gauges leave the sums (multiprocess mode only)."""
    if multiprocess():
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
