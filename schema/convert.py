"""Building Strawberry objects from domain rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


@cache
def _init_fields(cls: Any) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init and f.name != "pk")


def from_row(cls: Callable[..., T], row: Any, **overrides: Any) -> T:
    """An instance of ``cls`` whose fields are read from the attributes of ``row`` of the same
    name; ``pk`` is the row's primary key. ``overrides`` supply fields named differently."""
    values = {name: getattr(row, name) for name in _init_fields(cls) if name not in overrides}
    return cls(pk=row.id, **values, **overrides)
