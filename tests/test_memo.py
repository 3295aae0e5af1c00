"""hub.kit.memo.Memo: a value is computed once for every request that waits for it, served while
fresh, then served stale while one refresh runs; a failure is never kept."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hub.kit.memo import Memo


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Source:
    """Counts its computations; each waits for ``gate`` when one is given."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate: asyncio.Event | None = None
        self.fail = False

    async def __call__(self) -> str:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("the database went away")
        return f"value {self.calls}"


async def test_requests_that_come_together_share_one_computation() -> None:
    memo: Memo[str, str] = Memo(fresh=60, size=4, clock=Clock())
    source = Source()
    source.gate = asyncio.Event()
    waiting = [asyncio.ensure_future(memo.get("k", source)) for _ in range(5)]
    await asyncio.sleep(0)
    source.gate.set()
    assert await asyncio.gather(*waiting) == ["value 1"] * 5
    assert source.calls == 1
    assert await memo.get("k", source) == "value 1"  # kept
    assert source.calls == 1


async def test_a_stale_value_is_served_while_one_refresh_replaces_it() -> None:
    clock = Clock()
    memo: Memo[str, str] = Memo(fresh=60, size=4, clock=clock)
    source = Source()
    assert await memo.get("k", source) == "value 1"
    clock.now = 61
    source.gate = asyncio.Event()
    # stale: answered at once, and only one refresh starts however many ask
    assert [await memo.get("k", source) for _ in range(3)] == ["value 1"] * 3
    await asyncio.sleep(0)
    assert source.calls == 2
    source.gate.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert await memo.get("k", source) == "value 2"
    assert source.calls == 2  # fresh again from the refresh's own moment


async def test_a_failure_is_not_kept_and_a_failed_refresh_keeps_the_old_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    memo: Memo[str, str] = Memo(fresh=60, size=4, clock=clock)
    source = Source()
    source.fail = True
    with pytest.raises(RuntimeError, match="went away"):
        await memo.get("k", source)
    source.fail = False
    assert await memo.get("k", source) == "value 2"  # computed again, not the failure
    clock.now = 61
    source.fail = True
    with caplog.at_level(logging.WARNING, logger="hub.memo"):
        assert await memo.get("k", source) == "value 2"
        for _ in range(3):
            await asyncio.sleep(0)
    assert source.calls == 3
    assert [r.getMessage() for r in caplog.records] == [
        "refresh of 'k' failed; the kept value is served"
    ]
    assert await memo.get("k", source) == "value 2"


async def test_a_caller_that_gives_up_does_not_cancel_the_others() -> None:
    memo: Memo[str, str] = Memo(fresh=60, size=4, clock=Clock())
    source = Source()
    source.gate = asyncio.Event()
    impatient = asyncio.ensure_future(memo.get("k", source))
    patient = asyncio.ensure_future(memo.get("k", source))
    await asyncio.sleep(0)
    impatient.cancel()
    source.gate.set()
    assert await patient == "value 1"
    assert impatient.cancelled()
    assert source.calls == 1


async def test_the_least_recently_used_keys_go_first() -> None:
    memo: Memo[str, str] = Memo(fresh=60, size=2, clock=Clock())
    source = Source()
    for key in ("a", "b", "a", "c"):
        await memo.get(key, source)
    assert source.calls == 3  # a, b, c: the second a was kept
    await memo.get("b", source)  # b went when c came
    assert source.calls == 4
