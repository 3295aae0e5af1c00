"""Values a row rule or a filter compares with: known now, or a compiled statement's parameter.

A filter's meaning is written once, in its domain's repository, as SQLAlchemy conditions over
a table (or an alias of it). The resolvers call it with the request's values; the compiled
path (``schema.compiled``) calls the same function with ``Parameter``s, which render as the
statement's parameters (or as literals, for values the document itself gives) in the
statement's SQL dialect, and renders the conditions into its one statement. So neither
reader keeps a copy of what a filter means.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.types import TypeEngine

from hub.kit.codes import region_range


class Parameter(ABC):
    """A value known only when a compiled statement runs: a request's argument."""

    @abstractmethod
    def derive(
        self, compute: Callable[[Any], Any], type_: TypeEngine[Any] | None = None
    ) -> ColumnElement[Any]:
        """The SQL of ``compute(value)``, computed from the request's value when it binds;
        of the SQL type ``type_`` where the dialect must be told."""

    @abstractmethod
    def includes(self, column: Any) -> ColumnElement[bool]:
        """``column`` equals one of the values (a list) of the request's argument."""


def derived(value: Any, compute: Callable[[Any], Any]) -> Any:
    """``compute(value)``: now for a known value, when the statement binds for a parameter."""
    if isinstance(value, Parameter):
        return value.derive(compute)
    return compute(value)


def value_of(value: Any, column: Any) -> Any:
    """``value`` as the right side of a comparison with ``column``."""
    if isinstance(value, Parameter):
        return value.derive(_same, column.type)
    return value


def one_of(column: Any, values: Collection[Any] | Parameter) -> ColumnElement[bool]:
    """``column`` equals one of ``values``."""
    if isinstance(values, Parameter):
        return values.includes(column)
    found: ColumnElement[bool] = column.in_(list(values))
    return found


def _same(value: Any) -> Any:
    return value


def within_region(column: Any, code: str | Parameter) -> list[ColumnElement[bool]]:
    """``column`` holds a code inside the division ``code`` (``region_range``): a range, so
    that one index serves a province, a prefecture and a county alike."""
    low = derived(code, lambda c: region_range(c)[0])
    high = derived(code, lambda c: region_range(c)[1])
    return [column >= low, column < high]


def containing(column: Any, text: str | Parameter) -> ColumnElement[bool]:
    """``column`` contains ``text`` as it is: ``%`` and ``_`` in it are not wildcards."""
    pattern = derived(text, lambda t: f"%{_escaped(t)}%")
    found: ColumnElement[bool] = column.like(pattern, escape="/")
    return found


def _escaped(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def equal(row: Any, filter: Any, *names: str) -> list[ColumnElement[bool]]:
    """``row.<name> = filter.<name>`` for each of ``names`` that ``filter`` gives (not null)."""
    return [
        getattr(row, name) == value_of(given, getattr(row, name))
        for name in names
        if (given := getattr(filter, name)) is not None
    ]


def between(column: Any, first: Any, last: Any) -> list[ColumnElement[bool]]:
    """``first <= column <= last``, each bound only where given."""
    found: list[ColumnElement[bool]] = []
    if first is not None:
        found.append(column >= value_of(first, column))
    if last is not None:
        found.append(column <= value_of(last, column))
    return found
