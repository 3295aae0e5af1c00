"""The hub's own readings of built-in scalars, for every schema it serves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry


def _instant(value: Any) -> datetime:
    """An instant as the caller wrote it, which must say its UTC offset: a date alone, or a
    time without an offset, names no instant (is it Beijing's midnight, or UTC's?), and
    comparing it with the stored instants would fail in the database."""
    if not isinstance(value, str):
        raise ValueError("an instant is a string, e.g. 2025-03-01T00:00:00+08:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("not an ISO 8601 date and time, e.g. 2025-03-01T00:00:00+08:00") from None
    if parsed.tzinfo is None:
        raise ValueError(
            "an instant needs its UTC offset, e.g. 2025-03-01T00:00:00+08:00 or "
            "2025-02-28T16:00:00Z"
        )
    return parsed


DateTime = strawberry.scalar(
    name="DateTime",
    description="An instant: an ISO 8601 date and time with its UTC offset, e.g. "
    "2025-03-01T00:00:00+08:00.",
    serialize=datetime.isoformat,
    parse_value=_instant,
)

SCALARS: dict[object, Any] = {datetime: DateTime}
"""``scalar_overrides`` of every schema the hub builds (``TierSchema``)."""
