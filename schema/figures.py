"""Figures that are the same for every caller, read once for all of them (``hub.kit.memo``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from hub.kit.memo import SlowReads
from hub.kit.months import month_start
from schema.context import Info

T = TypeVar("T")


async def kept(info: Info, now: datetime, read: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``read(session, now, *args)``, computed once for every caller and kept a while by the
    app (``SlowReads``, on connections of its own), by the month under way at ``now`` (a
    refresh reads at the instant of the request that started it). Only reads whose answer is
    the same for every caller belong here. Without the app's ``SlowReads`` (a test's
    sessionmaker, which runs every session on one connection), in the request's own session."""
    request = info.context.request
    slow = getattr(request.app.state, "figures", None) if request is not None else None
    if not isinstance(slow, SlowReads):
        return await read(info.context.session, now, *args)
    return await kept_by(slow, now, read, *args)


async def kept_by(
    slow: SlowReads, now: datetime, read: Callable[..., Awaitable[T]], *args: Any
) -> T:
    """``kept``, given the app's ``SlowReads``: also for reading them ahead of any request."""
    key = (read.__module__, read.__qualname__, month_start(now), *args)
    return await slow.get(key, lambda session: read(session, now, *args))
