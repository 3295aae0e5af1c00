"""Requests per caller and window: a GCRA budget, kept in the process or shared through Redis.

GCRA (the generic cell rate algorithm) keeps one number per caller, the theoretical arrival
time (TAT) of its next request. Each admitted request moves the TAT one interval
(window / limit) into the future; a request is refused while the TAT lies more than a whole
window ahead. A caller may so send ``limit`` requests at once, then one per interval, and a
refused request costs nothing. Unlike fixed windows there is no burst of twice the limit at a
window's edge, and unlike a log of timestamps it stores one integer per caller.

Times are integer microseconds, so the in-process and the Redis implementation (a Lua script
that reads the clock of the Redis server, the one clock that every hub process shares) compute
exactly the same answers.

A ``Batch`` makes several requests spend one: behind a federation router one client operation
becomes a request to each subgraph it touches (and to some several times), and the caller
should pay for the operation, not for the way the graph is cut. The first request of a batch
is counted as any other; the next ones, up to ``size`` in all and within ``seconds`` of the
first, are admitted without spending anything, with the budget as it stands. A batch that was
refused leaves nothing behind, so its next request is counted again.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.kit.breaker import Breaker, State

log = logging.getLogger("hub.ratelimit")

MICROSECONDS = 1_000_000


@dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` requests per ``window`` seconds."""

    limit: int
    window: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window < 1:
            raise ValueError(f"a rate needs a positive limit and window, got {self}")

    @property
    def interval(self) -> int:
        """Microseconds one request takes from the budget."""
        return max(1, round(self.window * MICROSECONDS / self.limit))

    @property
    def capacity(self) -> int:
        """Microseconds of a whole budget: ``limit`` intervals, about one window."""
        return self.interval * self.limit


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one request, with what the rate headers tell the caller."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: int
    """Seconds until the whole budget is back (rounded up)."""
    retry_after: int
    """Seconds until a request is admitted again (rounded up); 0 when this one was."""


def decide(rate: Rate, allowed: bool, used: int) -> Decision:
    """The decision for ``used`` microseconds of budget in use (TAT - now) after the request."""
    interval, capacity = rate.interval, rate.capacity
    return Decision(
        allowed=allowed,
        limit=rate.limit,
        remaining=(capacity - used) // interval if allowed else 0,
        reset_after=math.ceil(used / MICROSECONDS),
        retry_after=0
        if allowed
        else max(1, math.ceil((used + interval - capacity) / MICROSECONDS)),
    )


@dataclass(frozen=True, slots=True)
class Batch:
    """Requests that spend one request of a budget together: up to ``size`` requests with the
    same ``key``, within ``seconds`` of the first."""

    key: str
    size: int
    seconds: int

    def __post_init__(self) -> None:
        if self.size < 1 or self.seconds < 1:
            raise ValueError(f"a batch needs a positive size and duration, got {self}")


def gcra(rate: Rate, tat: int | None, now: int) -> tuple[Decision, int | None]:
    """One request at ``now`` against the stored ``tat``: the decision and the TAT to store.

    The TAT to store is None when the request is refused, which leaves the budget as it was.
    """
    start = now if tat is None or tat < now else tat
    new_tat = start + rate.interval
    if new_tat - now > rate.capacity:
        return decide(rate, False, start - now), None
    return decide(rate, True, new_tat - now), new_tat


def standing(rate: Rate, tat: int | None, now: int) -> Decision:
    """An admitted request that spends nothing: the budget as it stands at ``now``."""
    return decide(rate, True, 0 if tat is None else max(0, tat - now))


class RateLimiter(Protocol):
    async def hit(self, key: str, rate: Rate, batch: Batch | None = None) -> Decision:
        """Count one request of ``key`` against ``rate``, once per ``batch`` if there is one."""
        ...

    async def aclose(self) -> None: ...


class InProcessRateLimiter:
    """Budgets in this process's memory: each hub process counts on its own."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tats: dict[str, int] = {}
        # batch key -> (requests it may still admit for free, when it ends)
        self._batches: dict[str, tuple[int, int]] = {}
        self._prune_at = 1024

    async def hit(self, key: str, rate: Rate, batch: Batch | None = None) -> Decision:
        # No await in here: one request's read and write of the tables cannot interleave
        # with another's.
        now = round(self._clock() * MICROSECONDS)
        tat = self._tats.get(key)
        if batch is not None:
            left, ends = self._batches.get(batch.key, (0, now))
            if left > 0 and ends > now:
                self._batches[batch.key] = (left - 1, ends)
                return standing(rate, tat, now)
        decision, new_tat = gcra(rate, tat, now)
        if new_tat is not None:
            self._tats[key] = new_tat
            if batch is not None:
                self._batches[batch.key] = (batch.size - 1, now + batch.seconds * MICROSECONDS)
            if len(self._tats) + len(self._batches) >= self._prune_at:
                self._prune(now)
        return decision

    def _prune(self, now: int) -> None:
        # A TAT in the past is a full budget, the same as no entry: forget those, and batches
        # that ended. Pruning again only once the tables have doubled keeps the cost per
        # request constant.
        self._tats = {key: tat for key, tat in self._tats.items() if tat > now}
        self._batches = {key: b for key, b in self._batches.items() if b[1] > now and b[0] > 0}
        self._prune_at = max(1024, 2 * (len(self._tats) + len(self._batches)))

    @property
    def tracked(self) -> int:
        """How many callers the table holds (for tests and metrics)."""
        return len(self._tats)

    async def aclose(self) -> None:
        """Nothing to release: the table is plain memory."""


# KEYS[1]: the caller's key; ARGV: interval and capacity in microseconds. With a batch, also
# KEYS[2]: the batch's key, holding how many requests it may still admit for free, and ARGV:
# its size and its duration in milliseconds. Returns whether the request is admitted and the
# budget in use afterwards (TAT - now) in microseconds. The TAT is written with %.0f: Redis
# would format a Lua number with 14 significant digits, too few for microseconds since 1970.
_GCRA_SCRIPT = """
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
if #KEYS == 2 then
  local left = tonumber(redis.call('GET', KEYS[2]))
  if left and left > 0 then
    redis.call('DECR', KEYS[2])
    return {1, tat - now}
  end
end
local new_tat = tat + interval
if new_tat - now > capacity then
  return {0, tat - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
if #KEYS == 2 then
  redis.call('SET', KEYS[2], tonumber(ARGV[3]) - 1, 'PX', tonumber(ARGV[4]))
end
return {1, new_tat - now}
"""


class RedisRateLimiter:
    """Budgets in Redis, so that every hub process spends from the same one.

    If Redis fails, requests are counted by ``fallback`` (the process's own budgets), and
    every ``retry_after_failure`` seconds one request tries Redis again (hub.kit.breaker): the
    hub keeps answering and keeps a limit, only per process, and a Redis that hangs costs one
    request ``timeout`` seconds per retry, not every request that arrives meanwhile. A
    limiter that refused every request while Redis is down would take the whole API down with
    a cache; one that let everything through would leave the database unprotected exactly
    when something is already wrong.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "hub:rate:",
        fallback: RateLimiter | None = None,
        timeout: float = 0.25,
        retry_after_failure: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis: Redis = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._script = self._redis.register_script(_GCRA_SCRIPT)
        self._prefix = prefix
        self._fallback = fallback if fallback is not None else InProcessRateLimiter()
        self.breaker = Breaker("redis", cooldown=retry_after_failure, clock=clock)

    @property
    def degraded(self) -> bool:
        """Whether requests are being counted by the fallback because Redis failed."""
        return self.breaker.state is not State.CLOSED

    async def hit(self, key: str, rate: Rate, batch: Batch | None = None) -> Decision:
        if not self.breaker.allow():
            return await self._fallback.hit(key, rate, batch)
        keys: list[str] = [self._prefix + key]
        args: list[int] = [rate.interval, rate.capacity]
        if batch is not None:
            keys.append(self._prefix + batch.key)
            args += [batch.size, batch.seconds * 1000]
        try:
            allowed, used = await self._script(keys=keys, args=args)
        except (RedisError, OSError) as error:
            if self.breaker.failed(f"{type(error).__name__}: {error}"):
                log.warning(
                    "rate limiting falls back to per-process budgets: Redis failed (%s)", error
                )
            return await self._fallback.hit(key, rate, batch)
        if self.breaker.succeeded() is not None:
            log.warning("rate limiting shares budgets through Redis again")
        return decide(rate, bool(allowed), int(used))

    async def aclose(self) -> None:
        await self._redis.aclose()
        await self._fallback.aclose()


def create_rate_limiter(redis_url: str | None) -> RateLimiter:
    """In-process budgets by default; shared ones when a Redis URL is configured."""
    if redis_url:
        return RedisRateLimiter(redis_url)
    return InProcessRateLimiter()
