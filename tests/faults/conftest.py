"""Fault tests: the hub against servers that the tests themselves stop, hang and restart.

Each module starts its own throwaway server (tests/faults/services.py), never the ones
scripts/test shares with the other tests, and drives the real app over HTTP (httpx against the
ASGI app) while the server is down, hung or back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from hub.auth.principal import Tier
from hub.limits import Limits
from tests.fixtures.limits import endpoint_of, limits

#: How long a test waits for an answer before it calls the request hung. Longer than any bound
#: the tests set, so that a request past its bound is reported with its time, not as hung.
HANG_LIMIT = 12.0


def roomy_limits() -> Limits:
    """Rate budgets no fault test runs out of: a 429 would hide what the test looks for."""
    return limits(public={"rate_limit": 1_000_000}, partner={"rate_limit": 1_000_000})


@dataclass(frozen=True, slots=True)
class Call:
    """One request a test sends again and again, as the hub's clients would."""

    name: str
    method: str
    path: str
    options: dict[str, Any] = field(default_factory=dict)
    kind: str = "graphql"
    """How its refusal looks: graphql, oauth, readyz or page."""


@dataclass(frozen=True, slots=True)
class Outcome:
    call: Call
    seconds: float
    response: httpx.Response | None
    """None: no answer within HANG_LIMIT."""

    @property
    def status(self) -> int | None:
        return None if self.response is None else self.response.status_code

    def __repr__(self) -> str:
        body = "" if self.response is None else self.response.text[:120]
        return f"<{self.call.name}: {self.status} in {self.seconds:.2f} s {body!r}>"


async def send(client: httpx.AsyncClient, call: Call) -> Outcome:
    """The call's answer and how long it took; a request that hangs is left behind, not
    awaited, so that a hub that hangs fails the test instead of hanging it."""
    started = time.monotonic()
    task = asyncio.ensure_future(client.request(call.method, call.path, **call.options))
    done, _ = await asyncio.wait({task}, timeout=HANG_LIMIT)
    seconds = time.monotonic() - started
    if not done:
        return Outcome(call, seconds, None)
    return Outcome(call, seconds, task.result())


async def send_all(client: httpx.AsyncClient, calls: Iterable[Call]) -> list[Outcome]:
    return [await send(client, call) for call in calls]


def dishonest(outcome: Outcome) -> str | None:
    """What is wrong with an answer given during an outage, if anything: no answer, a 500, a
    body that is not what the endpoint answers, or a 200 that hides an INTERNAL error."""
    response = outcome.response
    if response is None:
        return "no answer"
    if response.status_code >= 500 and response.status_code != 503:
        return f"HTTP {response.status_code}"
    media = response.headers.get("content-type", "")
    if outcome.call.kind == "page":
        return None if media.startswith("text/html") else f"a page answered as {media}"
    if not media.startswith("application/"):
        return f"not JSON: {media}"
    body = response.json()
    codes = [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
    if "INTERNAL" in codes:
        return f"HTTP {response.status_code} with INTERNAL"
    return None


def unavailable(outcome: Outcome) -> str | None:
    """What keeps an answer from being the 503 the endpoint gives while the database is away."""
    wrong = dishonest(outcome)
    if wrong is not None:
        return wrong
    response = outcome.response
    assert response is not None
    if response.status_code != 503:
        return f"HTTP {response.status_code}"
    if response.headers.get("retry-after") != "5":
        return f"Retry-After {response.headers.get('retry-after')!r}"
    kind = outcome.call.kind
    if kind == "graphql":
        expected: Any = {
            "errors": [
                {
                    "message": response.json()["errors"][0]["message"],
                    "extensions": {"code": "UNAVAILABLE"},
                }
            ]
        }
    elif kind == "oauth":
        expected = {"error": "temporarily_unavailable", "error_description": "Try again later."}
    elif kind == "readyz":
        expected = {"status": "unavailable", "database": "unreachable"}
    else:
        return None
    return None if response.json() == expected else f"body {response.text[:200]}"


def late(outcome: Outcome, bound: float) -> str | None:
    return f"{outcome.seconds:.2f} s" if outcome.seconds > bound else None


def problems(outcomes: Iterable[Outcome], *checks: Any) -> list[str]:
    """Every outcome that fails a check, named, for one readable assertion."""
    found = []
    for outcome in outcomes:
        for check in checks:
            wrong = check(outcome)
            if wrong is not None:
                found.append(f"{outcome.call.name}: {wrong} ({outcome!r})")
    return found


async def until(condition: Any, seconds: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(interval)
    return bool(await condition())


def tracebacks(records: Iterable[logging.LogRecord]) -> list[str]:
    """The records that carry a traceback, by logger and message."""
    return [f"{r.name}: {r.getMessage()}" for r in records if r.exc_info]


def messages(records: Iterable[logging.LogRecord], logger: str, start: str) -> list[str]:
    return [
        r.getMessage() for r in records if r.name == logger and r.getMessage().startswith(start)
    ]


async def dispose(app: Any) -> None:
    """Close what create_app opened (httpx does not run the app's lifespan)."""
    endpoint = endpoint_of(app)
    await endpoint.guard.limiter.aclose()
    await endpoint.views[Tier.PUBLIC].sessionmaker.kw["bind"].dispose()
