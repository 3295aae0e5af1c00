"""Redis hung and stopped under the hub: requests are answered, counted per process meanwhile.

Rate budgets live in Redis when ``HUB_REDIS_URL`` is set. A Redis that fails is given 0.25 s
per attempt; the first failure opens the breaker, after which requests are counted by the
process's own budgets at once and one request per retry interval tries Redis again. The log
says once that budgets fell back, and once that they are shared again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from hub.app import create_app
from hub.config import Settings
from hub.db import create_engine
from hub.migrate import upgrade
from hub.ratelimit import RedisRateLimiter
from tests.faults.conftest import (
    Call,
    Outcome,
    dishonest,
    dispose,
    late,
    messages,
    problems,
    roomy_limits,
    send,
    tracebacks,
    until,
)
from tests.faults.services import Redis
from tests.fixtures.limits import endpoint_of

#: RedisRateLimiter's own timeout for one attempt.
TIMEOUT = 0.25
RETRY_INTERVAL = 1.0
BOUND = TIMEOUT + 1.0
COUNT = Call("count", "POST", "/graphql", {"json": {"query": "{ enterprises { totalCount } }"}})
FELL_BACK = "rate limiting falls back to per-process budgets: Redis failed"
SHARED = "rate limiting shares budgets through Redis again"


@pytest.fixture(scope="module")
def redis() -> Iterator[Redis]:
    server = Redis()
    server.start()
    try:
        yield server
    finally:
        server.close()


@dataclass(frozen=True, slots=True)
class Hub:
    client: httpx.AsyncClient
    limiter: RedisRateLimiter
    redis: Redis

    async def ask(self) -> Outcome:
        return await send(self.client, COUNT)

    async def shares_budgets(self) -> bool:
        return (await self.ask()).status == 200 and not self.limiter.degraded


@pytest.fixture(scope="module")
async def hub(redis: Redis, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Hub]:
    folder = tmp_path_factory.mktemp("hub")
    url = f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    settings = Settings(
        database_url=url,
        redis_url=redis.url,
        signing_key_path=folder / "key.pem",
        limits=roomy_limits(),
    )
    app = create_app(settings)
    limiter = endpoint_of(app).guard.limiter
    assert isinstance(limiter, RedisRateLimiter)
    limiter.breaker.cooldown = RETRY_INTERVAL  # hub serve's is 5 s: a shorter test
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as client:
        yield Hub(client, limiter, redis)
    await dispose(app)


def _within(outcome: Outcome) -> str | None:
    return late(outcome, BOUND)


def _answered(outcomes: list[Outcome]) -> None:
    assert problems(outcomes, dishonest, _within) == []
    assert {outcome.status for outcome in outcomes} == {200}
    assert all(outcome.response is not None for outcome in outcomes)
    assert {outcome.response.text for outcome in outcomes if outcome.response is not None} == {
        '{"data":{"enterprises":{"totalCount":0}}}'
    }


async def test_a_hung_redis_costs_one_slow_request_per_retry(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    assert await hub.shares_budgets()
    caplog.set_level(logging.INFO)
    caplog.clear()
    # when: Redis stops answering while three clients send requests as fast as they can
    outcomes: list[Outcome] = []
    streams, seconds = 3, 2.5 * RETRY_INTERVAL

    async def stream(until: float) -> None:
        while time.monotonic() < until:
            outcomes.append(await hub.ask())

    hub.redis.hang()
    try:
        await asyncio.gather(*(stream(time.monotonic() + seconds) for _ in range(streams)))
    finally:
        hub.redis.resume()
    # then: every request answered in time; only those in flight when it hung, and one per
    # retry, waited for Redis (give or take one pause of the machine, which slows a request of
    # every client at once: Redis's timeout is short)
    _answered(outcomes)
    slow = [outcome for outcome in outcomes if outcome.seconds >= TIMEOUT * 0.9]
    assert len(slow) <= 2 * streams + math.ceil(seconds / RETRY_INTERVAL), slow
    assert len(outcomes) >= 5 * len(slow)
    # ... and once it answers, budgets are shared again
    assert await until(hub.shares_budgets, RETRY_INTERVAL + 5)
    assert len(messages(caplog.records, "hub.ratelimit", FELL_BACK)) == 1
    assert len(messages(caplog.records, "hub.ratelimit", SHARED)) == 1
    assert tracebacks(caplog.records) == []


async def test_a_stopped_redis_is_not_waited_for_and_used_again_once_back(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    assert await hub.shares_budgets()
    caplog.set_level(logging.INFO)
    caplog.clear()
    # when
    hub.redis.kill()
    try:
        during = [await hub.ask() for _ in range(20)]
        degraded = hub.limiter.degraded
    finally:
        hub.redis.start()
    # then
    _answered(during)
    assert degraded is True
    assert await until(hub.shares_budgets, RETRY_INTERVAL + 5)
    assert len(messages(caplog.records, "hub.ratelimit", FELL_BACK)) == 1
    assert len(messages(caplog.records, "hub.ratelimit", SHARED)) == 1
    assert tracebacks(caplog.records) == []
