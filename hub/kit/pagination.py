"""Keyset (cursor) pagination: opaque cursors over a sort key that ends in the primary key.

A cursor is the sort-key values of the last row seen, so the next page is one indexed range
scan, however deep the caller has paged; offsets would grow slower with every page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import ColumnElement, Date, DateTime, Integer, Select, String, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from hub.errors import BadUserInputError

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")
S = TypeVar("S", bound=Select[Any])

#: A column of a sort key: the last one must be unique (the primary key).
SortKey = ColumnElement[Any] | InstrumentedAttribute[Any]


@dataclass(frozen=True, slots=True)
class PageRequest:
    """How many rows after which position; ``after`` holds decoded sort-key values."""

    first: int
    after: tuple[Any, ...] | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next: bool
    has_previous: bool


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if hasattr(value, "value") and not isinstance(value, int | str):  # an enum member
        return value.value
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        raise ValueError("unknown cursor value")
    if isinstance(value, int | str | float) or value is None:
        return value
    raise ValueError("unknown cursor value")


def encode_cursor(values: Sequence[Any]) -> str:
    raw = orjson.dumps([_encode_value(v) for v in values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


NOT_A_CURSOR = "not a cursor of this list; pass an endCursor from the same query"


def decode_cursor(cursor: str, width: int, argument: str = "after") -> tuple[Any, ...]:
    """Decode a cursor made by ``encode_cursor`` for a sort key of ``width`` columns."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(values, list) or len(values) != width:
            raise ValueError("wrong width")
        return tuple(_decode_value(v) for v in values)
    except (ValueError, UnicodeEncodeError, binascii.Error, orjson.JSONDecodeError):
        raise BadUserInputError(argument, NOT_A_CURSOR) from None


def cursor_kind(key: SortKey) -> str | None:
    """How a sort key's value is written in a cursor (``encode_cursor``): ``date``,
    ``datetime``, ``text`` or ``integer``; None for another kind, which is not checked."""
    stored = getattr(key.type, "impl", key.type)
    if isinstance(stored, DateTime):
        return "datetime"
    if isinstance(stored, Date):
        return "date"
    if isinstance(stored, Integer):
        return "integer"
    if isinstance(stored, String):  # enums too: a cursor holds the member's value
        return "text"
    return None


def _of_kind(value: Any, kind: str | None) -> bool:
    match kind:
        case "datetime":
            return isinstance(value, datetime)
        case "date":
            return isinstance(value, date) and not isinstance(value, datetime)
        case "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        case "text":
            return isinstance(value, str)
    return True


def check_cursor(
    values: Sequence[Any], kinds: Sequence[str | None], argument: str = "after"
) -> None:
    """Refuse a cursor whose values are not of its list's sort-key kinds: one of another list
    or order (a name where a timestamp is sorted) would otherwise reach the database, and fail
    there. A cursor of the same kinds is a position in this list too, and is taken."""
    if len(values) != len(kinds) or not all(
        value is None or _of_kind(value, kind) for value, kind in zip(values, kinds, strict=False)
    ):
        raise BadUserInputError(argument, NOT_A_CURSOR)


def page_request(
    first: int | None,
    after: str | None,
    width: int,
    *,
    argument_prefix: str = "",
) -> PageRequest:
    """Validate ``first`` and ``after`` as given by a caller."""
    size = DEFAULT_PAGE_SIZE if first is None else first
    if size < 0 or size > MAX_PAGE_SIZE:
        raise BadUserInputError(
            f"{argument_prefix}first", f"must be between 0 and {MAX_PAGE_SIZE}, got {size}"
        )
    decoded = None if after is None else decode_cursor(after, width, f"{argument_prefix}after")
    return PageRequest(first=size, after=decoded)


def keyset_condition(
    keys: Sequence[SortKey], after: tuple[Any, ...], descending: bool
) -> ColumnElement[bool]:
    """Rows strictly after the cursor in the (uniform) direction of the sort."""
    check_cursor(after, [cursor_kind(key) for key in keys])
    row = tuple_(*keys)
    position = tuple_(*after)
    return row < position if descending else row > position


def ordering(keys: Sequence[SortKey], descending: bool) -> list[ColumnElement[Any]]:
    return [key.desc() if descending else key.asc() for key in keys]


def apply_keyset(stmt: S, keys: Sequence[SortKey], descending: bool, request: PageRequest) -> S:
    """Order, position and limit a statement for one page (one row more, to see a next page)."""
    if request.after is not None:
        stmt = stmt.where(keyset_condition(keys, request.after, descending))
    return stmt.order_by(*ordering(keys, descending)).limit(request.first + 1)


def make_page(rows: Sequence[T], request: PageRequest, key_of: Any) -> Page[T]:
    """Cut the extra row and attach a cursor to each item; ``key_of(item)`` gives its sort key."""
    items = list(rows[: request.first])
    return Page(
        items=items,
        cursors=[encode_cursor(key_of(item)) for item in items],
        has_next=len(rows) > request.first,
        has_previous=request.after is not None,
    )
