"""Request rates through the real app: in the process, and shared by two apps through Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request

from hub.app import create_app
from hub.auth.principal import Principal, Tier
from hub.config import Settings
from hub.db import HubSession
from hub.ratelimit import InProcessRateLimiter, Rate, RedisRateLimiter
from schema.guard import budget_key
from tests.fixtures.limits import (
    bearer,
    endpoint_of,
    graphql,
    hub_client,
    limits,
    random_address,
    redis_url,
)

QUERY = "{ __typename }"
THREE_PER_MINUTE = {"rate_limit": 3, "rate_window": 60}


def rate_headers(response: httpx.Response) -> tuple[str, ...]:
    names = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after")
    return tuple(response.headers.get(name, "-") for name in names)


async def three_then_refused(clients: list[httpx.AsyncClient]) -> None:
    """Four requests, taking turns among ``clients``: three answered, the fourth refused."""
    responses = [await graphql(clients[i % len(clients)], QUERY) for i in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [rate_headers(r) for r in responses] == [
        ("3", "2", "20", "-"),
        ("3", "1", "40", "-"),
        ("3", "0", "60", "-"),
        ("3", "0", "60", "20"),
    ]
    assert responses[3].json() == {
        "errors": [
            {
                "message": "Too many requests: 3 per window are allowed. Retry after 20 s.",
                "extensions": {"code": "RATE_LIMITED"},
            }
        ]
    }


async def test_in_process(sessionmaker: async_sessionmaker[HubSession]) -> None:
    settings = Settings(limits=limits(public=THREE_PER_MINUTE))
    async with hub_client(settings, sessionmaker) as client:
        await three_then_refused([client])


async def test_every_response_carries_the_headers(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    async with hub_client(Settings(env="production"), sessionmaker) as client:
        responses = [
            await client.post("/graphql", json={"query": QUERY}),  # 200
            await client.post("/graphql", json={"query": "{ nope }"}),  # 200 with errors
            await client.post("/graphql", json=[{"query": QUERY}]),  # 400, Strawberry's
            await client.post("/graphql", data={"query": QUERY}),  # 415
            await client.get("/graphql", headers={"accept": "text/html"}),  # 404
            await client.post("/graphql", json={"query": QUERY}, headers=bearer("forged")),  # 401
        ]
    assert [r.status_code for r in responses] == [200, 200, 400, 415, 404, 401]
    assert [r.headers["x-ratelimit-remaining"] for r in responses] == [
        "119",
        "118",
        "117",
        "116",
        "115",
        "114",
    ]


async def test_failed_credentials_spend_the_public_budget_of_their_address(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    settings = Settings(limits=limits(public=THREE_PER_MINUTE))
    async with hub_client(settings, sessionmaker) as client:
        guesses = [await graphql(client, QUERY, token=f"guess-{i}") for i in range(3)]
        anonymous = await graphql(client, QUERY)
    assert [r.status_code for r in guesses] == [401, 401, 401]
    assert (anonymous.status_code, anonymous.headers["retry-after"]) == (429, "20")


async def test_budgets_are_per_caller_and_tier(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    settings = Settings(
        limits=limits(
            public={"rate_limit": 1}, partner={"rate_limit": 2}, internal={"rate_limit": 5}
        )
    )
    async with hub_client(settings, sessionmaker, address="203.0.113.9") as client:
        public = [await graphql(client, QUERY) for _ in range(2)]
        partner_a = [await graphql(client, QUERY, token="partner-a") for _ in range(3)]
        partner_b = await graphql(client, QUERY, token="partner-b")
        internal = await graphql(client, QUERY, token="internal")
    assert [r.status_code for r in public] == [200, 429]
    # the same address, but partners are counted by their client, each on its own
    assert [r.status_code for r in partner_a] == [200, 200, 429]
    assert [rate_headers(r)[:2] for r in partner_a] == [("2", "1"), ("2", "0"), ("2", "0")]
    assert (partner_b.status_code, rate_headers(partner_b)[:2]) == (200, ("2", "1"))
    assert (internal.status_code, rate_headers(internal)[:2]) == (200, ("5", "4"))


async def test_public_callers_are_counted_by_address(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    settings = Settings(limits=limits(public={"rate_limit": 1}))
    app = create_app(settings, sessionmaker=sessionmaker)

    async def status(address: str) -> int:
        async with hub_client(settings, sessionmaker, app=app, address=address) as client:
            return (await graphql(client, QUERY)).status_code

    assert [await status("192.0.2.1"), await status("192.0.2.2")] == [200, 200]
    assert await status("192.0.2.1") == 429
    # IPv6: one budget per /64, the block a subscriber gets
    assert await status("2001:db8:1:2::1") == 200
    assert await status("2001:db8:1:2:ffff:ffff:ffff:ffff") == 429
    assert await status("2001:db8:1:3::1") == 200


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client: Redis = Redis.from_url(redis_url())
    yield client
    await client.aclose()


async def test_two_apps_share_one_budget_through_redis(
    sessionmaker: async_sessionmaker[HubSession], redis: Redis
) -> None:
    # given: two hub processes' worth of apps, configured with the same Redis
    settings = Settings(redis_url=redis_url(), limits=limits(public=THREE_PER_MINUTE))
    address = random_address()
    first, second = (create_app(settings, sessionmaker=sessionmaker) for _ in range(2))
    assert endpoint_of(first).guard.limiter is not endpoint_of(second).guard.limiter
    async with (
        hub_client(settings, sessionmaker, app=first, address=address) as one,
        hub_client(settings, sessionmaker, app=second, address=address) as two,
    ):
        # when / then: requests taking turns spend one budget
        await three_then_refused([one, two])
        # and another address still has its own
        async with hub_client(settings, sessionmaker, app=second) as three:
            assert (await graphql(three, QUERY)).status_code == 200

    # the budget lives in Redis, and expires when it is full again
    key = f"hub:rate:public:ip:{address}"
    ttl = await redis.pttl(key)
    assert 59_000 < ttl <= 60_000
    await redis.delete(key)


async def test_redis_budgets_match_the_in_process_ones(redis: Redis) -> None:
    # the Lua script and the Python GCRA give the same answers for the same sequence
    rate = Rate(limit=7, window=60)
    key = f"test:{random_address()}"
    shared = RedisRateLimiter(redis_url())
    local = InProcessRateLimiter()
    try:
        for _ in range(9):
            in_redis, in_process = await shared.hit(key, rate), await local.hit(key, rate)
            assert (in_redis.allowed, in_redis.remaining, in_redis.retry_after) == (
                in_process.allowed,
                in_process.remaining,
                in_process.retry_after,
            )
    finally:
        await shared.aclose()
        await redis.delete(f"hub:rate:{key}")


async def test_without_redis_each_process_keeps_a_budget(
    sessionmaker: async_sessionmaker[HubSession], caplog: pytest.LogCaptureFixture
) -> None:
    # given: a Redis URL where nothing listens
    settings = Settings(redis_url="redis://127.0.0.1:1/0", limits=limits(public=THREE_PER_MINUTE))
    app = create_app(settings, sessionmaker=sessionmaker)
    limiter = endpoint_of(app).guard.limiter
    assert isinstance(limiter, RedisRateLimiter)
    # when / then: answered and limited all the same, one warning for the outage
    with caplog.at_level(logging.WARNING, logger="hub.ratelimit"):
        async with hub_client(settings, sessionmaker, app=app) as client:
            await three_then_refused([client])
            assert limiter.degraded
    warnings = [r for r in caplog.records if r.name == "hub.ratelimit"]
    assert len(warnings) == 1
    assert (
        warnings[0]
        .getMessage()
        .startswith("rate limiting falls back to per-process budgets: Redis failed")
    )


async def test_a_redis_that_hangs_is_waited_for_briefly_then_used_again(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    rate = Rate(limit=3, window=60)
    key = f"test:{random_address()}"
    limiter = RedisRateLimiter(redis_url(), timeout=0.2, retry_after_failure=0.1)
    try:
        assert (await limiter.hit(key, rate)).remaining == 2
        # given: Redis stops answering for a second
        await redis.execute_command("CLIENT", "PAUSE", "1000", "ALL")
        with caplog.at_level(logging.WARNING, logger="hub.ratelimit"):
            # when: the budget falls back to this process's, which has not seen the first hit
            during = await limiter.hit(key, rate)
            assert (during.allowed, during.remaining, limiter.degraded) == (True, 2, True)
            # then: once Redis answers again, its budget counts again
            await asyncio.sleep(1.2)
            after = await limiter.hit(key, rate)
        assert (after.allowed, after.remaining, limiter.degraded) == (True, 1, False)
        assert [r.getMessage()[:40] for r in caplog.records if r.name == "hub.ratelimit"] == [
            "rate limiting falls back to per-process ",
            "rate limiting shares budgets through Red",
        ]
    finally:
        await limiter.aclose()
        await redis.delete(f"hub:rate:{key}")


@pytest.mark.parametrize(
    ("principal", "host", "key"),
    [
        (None, "192.0.2.7", "public:ip:192.0.2.7"),
        (Principal(), "192.0.2.7", "public:ip:192.0.2.7"),
        (Principal(), "::ffff:192.0.2.7", "public:ip:192.0.2.7"),
        (Principal(), "2001:db8:1:2:3:4:5:6", "public:ip:2001:db8:1:2::/64"),
        (Principal(tier=Tier.PARTNER, client_id="moc"), "192.0.2.7", "partner:client:moc"),
        (Principal(tier=Tier.INTERNAL, subject="analyst"), "192.0.2.7", "internal:client:analyst"),
        (Principal(tier=Tier.INTERNAL), "192.0.2.7", "internal:ip:192.0.2.7"),
        (None, "testclient", "public:ip:testclient"),
    ],
)
def test_whose_budget_a_request_spends(principal: Principal | None, host: str, key: str) -> None:
    request = Request({"type": "http", "method": "POST", "headers": [], "client": (host, 1)})
    assert budget_key(request, principal) == key
