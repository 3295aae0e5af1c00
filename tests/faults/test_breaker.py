"""The one circuit breaker of the hub (hub.kit.breaker), on a clock the test moves."""

from __future__ import annotations

import pytest

from hub.kit.breaker import Breaker, State, breakers


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> Breaker:
    return Breaker("test", cooldown=5.0, clock=clock)


def test_a_closed_breaker_lets_every_call_through(breaker: Breaker) -> None:
    assert [breaker.allow() for _ in range(3)] == [True, True, True]
    assert (breaker.state, breaker.reason, breaker.retry_in) == (State.CLOSED, "", 0.0)
    assert breaker.succeeded() is None


def test_the_first_failure_opens_it_and_says_so_once(breaker: Breaker, clock: Clock) -> None:
    # when
    opened = [breaker.failed("timed out"), breaker.failed("timed out again")]
    # then: refused until the cooldown has passed
    assert opened == [True, False]
    assert (breaker.state, breaker.reason) == (State.OPEN, "timed out again")
    clock.now += 4.9
    assert breaker.allow() is False
    assert breaker.retry_in == pytest.approx(0.1)


def test_after_the_cooldown_one_probe_goes_through_at_a_time(
    breaker: Breaker, clock: Clock
) -> None:
    breaker.failed("timed out")
    clock.now += 5.0
    # when: several calls arrive while the probe runs
    allowed = [breaker.allow() for _ in range(4)]
    # then
    assert allowed == [True, False, False, False]
    assert breaker.state is State.HALF_OPEN


def test_the_probe_success_closes_it_and_says_how_long_it_was_open(
    breaker: Breaker, clock: Clock
) -> None:
    breaker.failed("refused")
    clock.now += 7.5
    assert breaker.allow() is True
    # when
    down_for = breaker.succeeded()
    # then
    assert down_for == 7.5
    assert (breaker.state, breaker.reason) == (State.CLOSED, "")
    assert [breaker.allow() for _ in range(2)] == [True, True]


def test_the_probe_failure_opens_it_for_another_cooldown_without_saying_so_again(
    breaker: Breaker, clock: Clock
) -> None:
    breaker.failed("refused")
    clock.now += 5.0
    assert breaker.allow() is True
    # when
    opened = breaker.failed("still refused")
    # then
    assert opened is False
    assert breaker.state is State.OPEN
    clock.now += 4.0
    assert breaker.allow() is False
    clock.now += 1.0
    assert breaker.allow() is True


def test_a_probe_that_never_reports_is_replaced_after_a_cooldown(
    breaker: Breaker, clock: Clock
) -> None:
    breaker.failed("refused")
    clock.now += 5.0
    assert breaker.allow() is True  # its caller is cancelled and never reports
    clock.now += 4.0
    assert breaker.allow() is False
    clock.now += 1.0
    assert breaker.allow() is True
    assert breaker.state is State.HALF_OPEN


def test_the_live_breakers_are_listed_by_name(clock: Clock) -> None:
    second = Breaker("zz-second", cooldown=1.0, clock=clock)
    first = Breaker("aa-first", cooldown=1.0, clock=clock)
    listed = [b for b in breakers() if b.name in ("aa-first", "zz-second")]
    assert listed == [first, second]


def test_a_breaker_needs_a_positive_cooldown() -> None:
    with pytest.raises(ValueError, match="positive cooldown"):
        Breaker("bad", cooldown=0)
