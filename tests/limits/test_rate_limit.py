"""Request rates through the real app: in the process, and shared by two apps through Redis."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request

from hub.app import create_app
from hub.auth.principal import Principal, Tier
from hub.config import Settings
from hub.db import HubSession
from hub.limits import Limits
from hub.ratelimit import Batch, InProcessRateLimiter, Rate, RedisRateLimiter
from schema.guard import budget_key
from tests.federation.peers import free_ports, hub_command, peers, start, wait_until_ready
from tests.fixtures.limits import (
    bearer,
    endpoint_of,
    graphql,
    hub_client,
    limits,
    per_day,
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
    settings = Settings(env="production", limits=limits(public=per_day(10)))
    async with hub_client(settings, sessionmaker) as client:
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
        "9",
        "8",
        "7",
        "6",
        "5",
        "4",
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


# Behind routers: the caller a trusted router forwards, one request per routed operation.

ROUTERS = ["10.30.0.0/16", "2001:db8:30::/48"]
ROUTER = "10.30.1.2"


def forwarded(caller: str, operation: str | None = None) -> dict[str, str]:
    headers = {"x-forwarded-for": caller}
    if operation is not None:
        headers["x-hub-operation-id"] = operation
    return headers


async def test_a_trusted_router_names_its_callers(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    # given a router in front of the hub, and a public budget of one request
    settings = Settings(trusted_routers=ROUTERS, limits=limits(public={"rate_limit": 1}))
    app = create_app(settings, sessionmaker=sessionmaker)
    one, other = random_address(), random_address()
    async with hub_client(settings, sessionmaker, app=app, address=ROUTER) as router:

        async def status(headers: dict[str, str]) -> int:
            response = await router.post("/graphql", json={"query": QUERY}, headers=headers)
            return response.status_code

        # when / then: each caller it forwards has a budget of its own
        assert [await status(forwarded(one)), await status(forwarded(one))] == [200, 429]
        assert await status(forwarded(other)) == 200
        # a chain of proxies: the caller is the last address that is not a trusted router's,
        # whatever the caller put in front of it
        assert await status(forwarded(f"203.0.113.1, {one}, 10.30.9.9")) == 429
        # an IPv6 caller by its /64, as always
        assert await status(forwarded("2001:db8:1:2::1")) == 200
        assert await status(forwarded("2001:db8:1:2::2")) == 429


async def test_forwarded_headers_from_anyone_else_change_nothing(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    # given a caller that is not a trusted router, and a public budget of two requests
    settings = Settings(trusted_routers=ROUTERS, limits=limits(public={"rate_limit": 2}))
    async with hub_client(settings, sessionmaker) as spoofer:
        # when it claims to forward other callers, and names an operation to ride on
        responses = [
            await spoofer.post(
                "/graphql",
                json={"query": QUERY},
                headers=forwarded(random_address(), operation="same-operation"),
            )
            for _ in range(3)
        ]
    # then every request is its own, and counted
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in responses] == ["1", "0", "0"]


async def test_a_routed_operation_spends_one_request(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    settings = Settings(trusted_routers=ROUTERS, limits=limits(public=per_day(30)))
    caller = random_address()
    async with hub_client(settings, sessionmaker, address=ROUTER) as router:

        async def remaining(headers: dict[str, str]) -> str:
            response = await router.post("/graphql", json={"query": QUERY}, headers=headers)
            assert response.status_code == 200
            return response.headers["x-ratelimit-remaining"]

        # when a router sends the requests of one client operation to the subgraphs
        first_operation = [await remaining(forwarded(caller, "op-1")) for _ in range(4)]
        # then the caller pays once for them; another operation is paid again
        assert first_operation == ["29", "29", "29", "29"]
        assert await remaining(forwarded(caller, "op-2")) == "28"
        # the same id from another caller is that caller's operation, paid by that caller
        assert await remaining(forwarded(random_address(), "op-1")) == "29"
        # an operation covers ten requests at most: the eleventh pays again
        eleven = [await remaining(forwarded(caller, "op-1")) for _ in range(7)]
        assert eleven == ["28", "28", "28", "28", "28", "28", "27"]
        # an id that is not a plain token is ignored, and the request paid for
        assert await remaining(forwarded(caller, "op 3 " + "x" * 80)) == "26"
        assert await remaining(forwarded(caller, "op 3 " + "x" * 80)) == "25"


async def test_a_router_that_forwards_no_caller_spends_its_own_budget(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    settings = Settings(
        trusted_routers=ROUTERS,
        limits=limits(public={"rate_limit": 1}).model_copy(
            update={"router": Limits().router.model_copy(update={"rate_limit": 3})}
        ),
    )
    app = create_app(settings, sessionmaker=sessionmaker)
    async with hub_client(settings, sessionmaker, app=app, address=ROUTER) as router:
        # its own requests (schema fetches, health checks) at the router's rate
        own = [await graphql(router, QUERY) for _ in range(4)]
        # a caller it forwards still at the public rate
        caller = await router.post(
            "/graphql", json={"query": QUERY}, headers=forwarded(random_address())
        )
    assert [r.status_code for r in own] == [200, 200, 200, 429]
    assert [r.headers["x-ratelimit-limit"] for r in own] == ["3"] * 4
    assert (caller.status_code, caller.headers["x-ratelimit-limit"]) == (200, "1")


async def test_a_routed_operation_spends_one_request_through_redis(
    sessionmaker: async_sessionmaker[HubSession], redis: Redis
) -> None:
    # given two subgraph processes' worth of apps sharing budgets through Redis
    settings = Settings(
        redis_url=redis_url(), trusted_routers=ROUTERS, limits=limits(public=THREE_PER_MINUTE)
    )
    caller = random_address()
    credit, licensing = (
        create_app(settings, sessionmaker=sessionmaker, subgraph=name)
        for name in ("credit", "licensing")
    )
    async with (
        hub_client(settings, sessionmaker, app=credit, address=ROUTER) as one,
        hub_client(settings, sessionmaker, app=licensing, address=ROUTER) as two,
    ):
        # when one operation is sent to both, twice each, then another to one of them
        responses = [
            await client.post("/graphql", json={"query": QUERY}, headers=forwarded(caller, op))
            for client, op in [(one, "a"), (two, "a"), (one, "a"), (two, "a"), (two, "b")]
        ]
    # then the caller paid once per operation, whichever process counted
    assert [r.headers["x-ratelimit-remaining"] for r in responses] == ["2", "2", "2", "2", "1"]
    assert await redis.get(f"hub:rate:op:public:ip:{caller}:a") == b"6"
    assert 9_000 < await redis.pttl(f"hub:rate:op:public:ip:{caller}:a") <= 10_000
    await redis.delete(
        f"hub:rate:public:ip:{caller}",
        f"hub:rate:op:public:ip:{caller}:a",
        f"hub:rate:op:public:ip:{caller}:b",
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_batch_ends_after_its_seconds_and_a_refused_one_leaves_nothing() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(clock)
    rate = Rate(limit=2, window=60)
    batch = Batch("op:x", size=10, seconds=10)
    assert (await limiter.hit("x", rate, batch)).remaining == 1
    clock.now += 9.9
    assert (await limiter.hit("x", rate, batch)).remaining == 1
    # past its seconds, the batch is a new one and paid again
    clock.now += 0.2
    assert (await limiter.hit("x", rate, batch)).remaining == 0
    # refused: nothing is kept, so the next request of the batch is counted (and refused) too
    refused = Batch("op:y", size=10, seconds=10)
    assert [(await limiter.hit("x", rate, refused)).allowed for _ in range(2)] == [False, False]


async def test_redis_batches_match_the_in_process_ones(redis: Redis) -> None:
    rate = Rate(limit=3, window=60)
    key = f"test:{random_address()}"
    shared, local = RedisRateLimiter(redis_url()), InProcessRateLimiter()
    batches = [Batch(f"op:{key}:{name}", size=3, seconds=10) for name in "aabaaaacc"]
    try:
        for batch in batches:
            in_redis, in_process = (
                await shared.hit(key, rate, batch),
                await local.hit(key, rate, batch),
            )
            assert (in_redis.allowed, in_redis.remaining, in_redis.retry_after) == (
                in_process.allowed,
                in_process.remaining,
                in_process.retry_after,
            )
    finally:
        await shared.aclose()
        await redis.delete(f"hub:rate:{key}", *(f"hub:rate:{b.key}" for b in set(batches)))


def test_a_hub_process_believes_no_one_but_its_trusted_routers(tmp_path: Path) -> None:
    # given `hub serve` behind a router on another host, and a public budget of one request
    [port] = free_ports(1)
    env = {
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        "HUB_SIGNING_KEY_PATH": str(tmp_path / "signing-key.pem"),
        "HUB_TRUSTED_ROUTERS": '["192.0.2.0/24"]',
        "HUB_LIMITS__PUBLIC__RATE_LIMIT": "1",
    }
    url = f"http://127.0.0.1:{port}"
    with peers() as started:
        hub = start("hub", hub_command("serve", "--port", str(port)), tmp_path, env)
        started.append(hub)
        wait_until_ready(hub, f"{url}/healthz", deadline=time.monotonic() + 90)
        # when a process on the same machine claims to forward two different callers
        statuses = [
            httpx.post(
                f"{url}/graphql",
                json={"query": QUERY},
                headers={"x-forwarded-for": caller},
                timeout=10,
            ).status_code
            for caller in ("203.0.113.1", "203.0.113.2")
        ]
    # then it is one caller: its own address (uvicorn alone would believe anyone on 127.0.0.1)
    assert statuses == [200, 429]
