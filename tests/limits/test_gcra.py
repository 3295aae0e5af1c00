"""The GCRA budget itself, on a clock the test turns by hand."""

from __future__ import annotations

import pytest

from hub.ratelimit import Decision, InProcessRateLimiter, Rate, gcra


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


THREE_PER_MINUTE = Rate(limit=3, window=60)


async def test_a_burst_of_the_limit_then_one_per_interval() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(clock)

    burst = [await limiter.hit("k", THREE_PER_MINUTE) for _ in range(4)]
    assert burst == [
        Decision(allowed=True, limit=3, remaining=2, reset_after=20, retry_after=0),
        Decision(allowed=True, limit=3, remaining=1, reset_after=40, retry_after=0),
        Decision(allowed=True, limit=3, remaining=0, reset_after=60, retry_after=0),
        Decision(allowed=False, limit=3, remaining=0, reset_after=60, retry_after=20),
    ]

    clock.now += 19.5
    assert await limiter.hit("k", THREE_PER_MINUTE) == Decision(
        allowed=False, limit=3, remaining=0, reset_after=41, retry_after=1
    )
    clock.now += 0.5  # one interval after the burst: one request's worth is back
    assert await limiter.hit("k", THREE_PER_MINUTE) == Decision(
        allowed=True, limit=3, remaining=0, reset_after=60, retry_after=0
    )


async def test_refused_requests_cost_nothing() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(clock)
    for _ in range(3):
        await limiter.hit("k", THREE_PER_MINUTE)
    for _ in range(100):
        assert not (await limiter.hit("k", THREE_PER_MINUTE)).allowed
    clock.now += 20
    assert (await limiter.hit("k", THREE_PER_MINUTE)).allowed


async def test_an_idle_caller_gets_the_whole_budget_back_and_no_more() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(clock)
    await limiter.hit("k", THREE_PER_MINUTE)
    clock.now += 3600
    decisions = [await limiter.hit("k", THREE_PER_MINUTE) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]


async def test_callers_have_budgets_of_their_own() -> None:
    limiter = InProcessRateLimiter(Clock())
    for _ in range(3):
        await limiter.hit("a", THREE_PER_MINUTE)
    assert not (await limiter.hit("a", THREE_PER_MINUTE)).allowed
    assert (await limiter.hit("b", THREE_PER_MINUTE)).remaining == 2


async def test_a_rate_that_does_not_divide_the_window() -> None:
    # 7 per minute: an interval of 8,571,429 µs; the 7th request still fits the budget
    clock = Clock()
    limiter = InProcessRateLimiter(clock)
    decisions = [await limiter.hit("k", Rate(limit=7, window=60)) for _ in range(8)]
    assert [d.remaining for d in decisions] == [6, 5, 4, 3, 2, 1, 0, 0]
    assert [d.allowed for d in decisions] == [True] * 7 + [False]
    assert decisions[-1].retry_after == 9


async def test_the_table_forgets_callers_whose_budget_is_full_again() -> None:
    clock = Clock()
    limiter = InProcessRateLimiter(clock)
    for i in range(1023):
        await limiter.hit(f"old-{i}", THREE_PER_MINUTE)
    clock.now += 61  # every one of them is back to a full budget
    await limiter.hit("new", THREE_PER_MINUTE)
    assert limiter.tracked == 1


def test_gcra_is_exact_in_microseconds() -> None:
    rate = Rate(limit=2, window=1)
    decision, tat = gcra(rate, None, now=10_000_000)
    assert (decision.allowed, decision.remaining, tat) == (True, 1, 10_500_000)
    decision, tat = gcra(rate, 10_500_000, now=10_000_001)
    assert (decision.allowed, decision.remaining, tat) == (True, 0, 11_000_000)
    decision, tat = gcra(rate, 11_000_000, now=10_499_999)
    assert (decision.allowed, decision.retry_after, tat) == (False, 1, None)
    decision, tat = gcra(rate, 11_000_000, now=10_500_000)
    assert (decision.allowed, tat) == (True, 11_500_000)


@pytest.mark.parametrize(("limit", "window"), [(0, 60), (10, 0), (-1, 1)])
def test_a_rate_must_be_positive(limit: int, window: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        Rate(limit=limit, window=window)
