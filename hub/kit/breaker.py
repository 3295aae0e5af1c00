"""A circuit breaker: after a dependency fails, stop waiting on it, then try it one call at a time.

Closed, every call goes through. The first failure opens the breaker: a dependency that has
just timed out will most likely time out for the next caller too, and every caller would wait
the whole timeout. Open, calls are refused at once and their callers take their fallback.
``cooldown`` seconds after it opened, one call is let through as a probe (half-open) while the
others are still refused; the probe's success closes the breaker, its failure opens it for
another cooldown. A probe that never reports (its caller was cancelled, or failed for a reason
that says nothing about the dependency) is replaced by another one cooldown later.

The breaker knows nothing of what it guards: its callers decide what counts as a failure, and
log the transitions it reports (``failed`` says when a failure opened a closed breaker,
``succeeded`` when a success closed an open one), so that an outage is logged once, not once per
request. It never awaits, so in one event loop its state changes cannot interleave.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from enum import StrEnum


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


_LIVE: weakref.WeakSet[Breaker] = weakref.WeakSet()


def breakers() -> list[Breaker]:
    """The breakers of this process that are still in use, by name (for metrics)."""
    return sorted(_LIVE, key=lambda breaker: breaker.name)


class Breaker:
    def __init__(
        self, name: str, *, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if cooldown <= 0:
            raise ValueError(f"a breaker needs a positive cooldown, got {cooldown}")
        self.name = name
        self.cooldown = cooldown
        self._clock = clock
        self._state = State.CLOSED
        self._opened_at = 0.0
        # When the breaker last opened or let a probe through: the next probe is due a
        # cooldown after it.
        self._since = 0.0
        self._reason = ""
        _LIVE.add(self)

    @property
    def state(self) -> State:
        return self._state

    @property
    def reason(self) -> str:
        """Why it opened, as the failure that opened it said; empty while closed."""
        return self._reason if self._state is not State.CLOSED else ""

    @property
    def retry_in(self) -> float:
        """Seconds until the next probe may go through; 0 while closed or when it is due."""
        if self._state is State.CLOSED:
            return 0.0
        return max(0.0, self.cooldown - (self._clock() - self._since))

    def allow(self) -> bool:
        """Whether a call may go to the dependency now: always while closed; when open, only
        the one call that becomes the probe once the cooldown has passed."""
        if self._state is State.CLOSED:
            return True
        now = self._clock()
        if now - self._since < self.cooldown:
            return False
        self._state = State.HALF_OPEN
        self._since = now
        return True

    def failed(self, reason: str) -> bool:
        """A call failed in a way that says the dependency is down. True when this opened a
        closed breaker: the start of an outage, which the caller logs."""
        now = self._clock()
        opened = self._state is State.CLOSED
        if opened:
            self._opened_at = now
        self._state = State.OPEN
        self._since = now
        self._reason = reason
        return opened

    def succeeded(self) -> float | None:
        """A call went through. When this closed an open breaker, the seconds it was open (the
        caller logs the end of the outage); None when it was closed already."""
        if self._state is State.CLOSED:
            return None
        self._state = State.CLOSED
        self._reason = ""
        return self._clock() - self._opened_at
