"""The few pieces of a compiled statement that differ between PostgreSQL and SQLite.

``render.Renderer`` writes one statement for a compiled operation; what it writes in SQL that
the two databases spell differently, it asks of the statement's dialect: how a parameter is
written and bound, how a JSON object, an ordered JSON array and a truth value are made, how a
timestamp reads as ``datetime.isoformat()``, how IDs and cursors are encoded. Everything else
(the tree of objects, links, lists and pages, the row rules, the filters, the sort keys) is
the renderer's, written once.

SQLite (3.40 here) has JSON functions but no ordered JSON aggregate (``ORDER BY`` inside an
aggregate came in 3.44): an ordered array is ``json_group_array`` over a subquery sorted by
the list's keys. SQLite's documentation promises no order for an aggregate's elements ("the
order of the concatenated elements is arbitrary", of ``group_concat``); what keeps the
subquery's order is its query planner: a subquery with ``ORDER BY`` is never flattened into an
aggregate query (rule 16 of the flattener, in "The SQLite Query Optimizer Overview"), so it
runs on its own and the aggregate steps through its rows as they come, sorted.
``tests/schema/test_compiled.py`` and ``test_generated.py`` hold every list and page to the
resolvers' order, on the SQLite the hub runs with. A JSON value may lose its JSON subtype
when it leaves a subquery, so each one read from a subquery is parsed again (``json(...)``)
before it goes into another.
"""

from __future__ import annotations

import json
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Date, any_, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from hub.db import SQLITE_BASE64URL
from hub.kit.time import Instant, UTCDateTime, day_of

Getter = Callable[[Sequence[Any]], Any]
"""A parameter's value, from the request's argument values followed by the request's instant
(``request_values``)."""


def request_values(values: Sequence[Any], moment: datetime) -> list[Any]:
    """What a statement's getters read: the argument values, then the request's instant."""
    return [*values, moment]


def _request_moment(values: Sequence[Any]) -> Any:
    return values[-1]


def _request_day(values: Sequence[Any]) -> Any:
    moment = values[-1]
    assert isinstance(moment, datetime)
    return day_of(moment)


MAX_PAIRS = 50
"""``json_build_object`` takes at most 100 arguments, SQLite's functions 127: 50 pairs."""


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class SqlDialect(ABC):
    """What a compiled statement writes differently on one database."""

    name: str
    sqlalchemy: Dialect
    """The SQLAlchemy dialect the repositories' rules and filters are rendered with."""
    batches_lookups: bool
    """Whether neighbouring lookups of one table share one statement (``Renderer.lookups``)."""

    # -- parameters -------------------------------------------------------------------------

    @abstractmethod
    def placeholder(self, number: int, cast: str) -> str:
        """The statement's ``number``-th parameter (from 1), of the PostgreSQL type ``cast``
        (``::int``, ``::text[]``, or empty)."""

    def adapt(self, value: Any) -> Any:
        """A parameter's value as the driver takes it."""
        return value

    def refuses(self, sql: str) -> str | None:
        """Why the database cannot run the statement ``sql`` at all, whatever the data (too
        deep for its parser, say), or None."""
        return None

    @abstractmethod
    def constant(self, literal: str, cast: str) -> str:
        """A literal in a parameter's place, of the PostgreSQL type ``cast``."""

    @abstractmethod
    def instant(self, parameter: Callable[[Getter], str]) -> Instant:
        """The instant of the row rules: the database's own, or the request's, bound through
        ``parameter`` (which makes a parameter of a getter's value, ``render.Renderer``)."""

    @abstractmethod
    def cast(self, type_: TypeEngine[Any] | None, many: bool = False) -> str:
        """The cast of a parameter compared with a column of ``type_`` (``many``: a list)."""

    @abstractmethod
    def timestamp(self, value: datetime) -> str:
        """An aware timestamp as a literal to compare with a stored one."""

    @abstractmethod
    def array(self, items: Sequence[str]) -> str:
        """A list of the document's own values (SQL literals), as a parameter would hold it."""

    @abstractmethod
    def includes(self, column: Any, array: str) -> ColumnElement[bool]:
        """``column`` equals one of the values of ``array`` (a list parameter or ``array``)."""

    # -- JSON -------------------------------------------------------------------------------

    @abstractmethod
    def object(self, pairs: Sequence[tuple[str, str]]) -> str:
        """A JSON object of at most ``MAX_PAIRS`` pairs (key, SQL expression), in order."""

    @abstractmethod
    def joined(self, objects: Sequence[str]) -> str:
        """One JSON object of the keys of ``objects`` (two or more, none empty), in order."""

    def nested(self, expression: str) -> str:
        """A JSON value read from a subquery, to go into another JSON value."""
        return expression

    @abstractmethod
    def ordered(self, element: str, source: str, order: str) -> str:
        """The JSON array of ``element`` over the rows of ``source`` (``FROM ... [WHERE ...]``)
        in ``order``: a subquery."""

    @abstractmethod
    def aggregate(self, element: str, order: str, within: str) -> str:
        """The JSON array of ``element`` over the rows of an aggregate query, in ``order``,
        of the rows ``within`` (a ``FILTER`` clause). The rows come in that order."""

    @abstractmethod
    def pick(self, element: str, order: str, within: str, *, last: bool) -> str:
        """``element`` of the first (or last) row ``within``, in ``order``, of an aggregate
        query whose rows come in that order."""

    @abstractmethod
    def boolean(self, expression: str) -> str:
        """A truth value of SQL as a JSON truth value."""

    @abstractmethod
    def truth(self, value: bool) -> str:
        """A JSON truth value."""

    @abstractmethod
    def answer(self, expression: str) -> str:
        """The statement's one value: the answer's JSON text."""

    # -- values as text ---------------------------------------------------------------------

    @abstractmethod
    def base64url(self, expression: str) -> str:
        """``base64.urlsafe_b64encode`` of the text's UTF-8, without its ``=`` padding, as
        ``schema.node.encode_id`` and ``hub.kit.pagination.encode_cursor`` write them."""

    @abstractmethod
    def datetime(self, expression: str) -> str:
        """``datetime.isoformat()`` of a stored timestamp (aware, UTC), or null."""

    @abstractmethod
    def date_text(self, expression: str) -> str:
        """A stored date as ``date.isoformat()``."""

    @abstractmethod
    def json_text(self, expression: str) -> str:
        """A text as a JSON string (orjson's spelling)."""

    @abstractmethod
    def integer_text(self, expression: str) -> str:
        """A whole number as text."""

    @abstractmethod
    def integer(self, expression: str) -> str:
        """A value as a whole number (a row id)."""

    @abstractmethod
    def unnest(self, first: str, second: str, alias: str) -> str:
        """Rows ``alias(t, k, n)`` of two lists of one length, item by item: ``n`` is the
        position, from 1."""

    @abstractmethod
    def each(self, values: str, alias: str) -> str:
        """Rows ``alias(v, n)`` of a list, item by item: ``n`` is the position, from 1."""


class PostgreSQL(SqlDialect):
    name = "postgresql"
    sqlalchemy = postgresql.dialect()  # type: ignore[no-untyped-call]
    batches_lookups = True

    def placeholder(self, number: int, cast: str) -> str:
        return f"${number}{cast}"

    def constant(self, literal: str, cast: str) -> str:
        return literal + cast

    def instant(self, parameter: Callable[[Getter], str]) -> Instant:
        return Instant.database()  # the transaction's own, now()

    def cast(self, type_: TypeEngine[Any] | None, many: bool = False) -> str:
        if type_ is None:
            return ""
        return f"::{type_.compile(dialect=self.sqlalchemy)}{'[]' if many else ''}"

    def timestamp(self, value: datetime) -> str:
        return f"'{value.isoformat()}'"

    def array(self, items: Sequence[str]) -> str:
        return f"ARRAY[{', '.join(items)}]"

    def includes(self, column: Any, array: str) -> ColumnElement[bool]:
        found: ColumnElement[bool] = column == any_(literal_column(array))
        return found

    def object(self, pairs: Sequence[tuple[str, str]]) -> str:
        return "json_build_object(" + ", ".join(f"{literal(k)}, {v}" for k, v in pairs) + ")"

    def joined(self, objects: Sequence[str]) -> str:
        # Join the objects' texts: drop the closing brace of each and the opening brace of
        # the next.
        inner = " || ', ' || ".join(f"substr(left(({b})::text, -1), 2)" for b in objects)
        return f"('{{' || {inner} || '}}')::json"

    def ordered(self, element: str, source: str, order: str) -> str:
        return f"(SELECT coalesce(json_agg({element} ORDER BY {order}), '[]') {source})"

    def aggregate(self, element: str, order: str, within: str) -> str:
        return f"coalesce(json_agg({element} ORDER BY {order}) {within}, '[]')"

    def pick(self, element: str, order: str, within: str, *, last: bool) -> str:
        direction = " DESC" if last else ""
        return f"(array_agg({element} ORDER BY {order}{direction}) {within})[1]"

    def boolean(self, expression: str) -> str:
        return expression

    def truth(self, value: bool) -> str:
        return "true" if value else "false"

    def answer(self, expression: str) -> str:
        return f"SELECT ({expression})::text"

    def base64url(self, expression: str) -> str:
        return (
            f"rtrim(translate(encode(convert_to({expression}, 'UTF8'), 'base64'), "
            "'+/' || chr(10), '-_'), '=')"
        )

    def datetime(self, expression: str) -> str:
        # Whatever the session's time zone.
        utc = f"({expression} AT TIME ZONE 'UTC')"
        return (
            f"CASE WHEN {expression} IS NULL THEN NULL ELSE "
            f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
            f"extract(microseconds FROM {expression})::bigint % 1000000 <> 0 "
            f"THEN to_char({utc}, '.US') ELSE '' END || '+00:00' END"
        )

    def date_text(self, expression: str) -> str:
        return f"to_char({expression}, 'YYYY-MM-DD')"

    def json_text(self, expression: str) -> str:
        return f"to_json({expression})::text"

    def integer_text(self, expression: str) -> str:
        return f"{expression}::text"

    def integer(self, expression: str) -> str:
        return f"{expression}::bigint"

    def unnest(self, first: str, second: str, alias: str) -> str:
        return f"unnest({first}, {second}) WITH ORDINALITY AS {alias}(t, k, n)"

    def each(self, values: str, alias: str) -> str:
        return f"unnest({values}) WITH ORDINALITY AS {alias}(v, n)"


_SQLITE_LIMITS = ("parser stack overflow", "Expression tree is too large")
"""What SQLite says of a statement beyond its fixed limits (``SQLite.refuses``)."""

_SQLITE = sqlite.dialect()
_SQLITE_DATETIME = UTCDateTime().dialect_impl(_SQLITE).bind_processor(_SQLITE)


class SQLite(SqlDialect):
    name = "sqlite"
    sqlalchemy = _SQLITE
    # Each lookup is its own correlated subquery: SQLite has no LATERAL join, and a lookup by
    # key costs one index probe either way.
    batches_lookups = False

    def placeholder(self, number: int, cast: str) -> str:
        # Named, and bound by name (``bind``): a parameter may appear more than once, or not
        # at all (the instant of a statement whose rules read only the day).
        return f":p{number}"

    def bind(self, values: Sequence[Any]) -> dict[str, Any]:
        """The parameters' values as the driver takes them, by ``placeholder``'s names."""
        return {f"p{n}": value for n, value in enumerate(values, 1)}

    def constant(self, literal: str, cast: str) -> str:
        return literal

    def instant(self, parameter: Callable[[Getter], str]) -> Instant:
        # No transaction timestamp: the request's instant, as the resolvers' session fixes
        # it here (``Instant.for_dialect``).
        now = literal_column(parameter(_request_moment), UTCDateTime())
        return Instant(now, literal_column(parameter(_request_day), Date()))

    def refuses(self, sql: str) -> str | None:
        """SQLite's parser has a fixed stack (``YYSTACKDEPTH``, 100 in the builds here) and
        an expression a fixed height: a document nested about seven objects deep makes a
        statement it cannot parse. The SQLite library itself tells, parsing the statement
        once (on an empty database in memory: the parser stops before any name is looked
        up); such a document goes to the resolvers, logged as not compiled."""
        connection = sqlite3.connect(":memory:")
        try:
            connection.execute(sql)
        except sqlite3.Error as error:
            if any(limit in str(error) for limit in _SQLITE_LIMITS):
                return f"too deep for SQLite: {error}"
        finally:
            connection.close()
        return None

    def adapt(self, value: Any) -> Any:
        """As SQLAlchemy stores values on SQLite: timestamps as UTC text, dates as ISO text;
        a list as a JSON array (``json_each`` reads it)."""
        if isinstance(value, list | tuple):
            return json.dumps([self.adapt(v) for v in value], ensure_ascii=False)
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, datetime):
            assert _SQLITE_DATETIME is not None
            return _SQLITE_DATETIME(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value

    def cast(self, type_: TypeEngine[Any] | None, many: bool = False) -> str:
        return ""

    def timestamp(self, value: datetime) -> str:
        return f"'{self.adapt(value)}'"  # stored as text: compared as the same text

    def array(self, items: Sequence[str]) -> str:
        return f"json_array({', '.join(items)})"

    def includes(self, column: Any, array: str) -> ColumnElement[bool]:
        found: ColumnElement[bool] = column.op("IN")(
            literal_column(f"(SELECT value FROM json_each({array}))")
        )
        return found

    def object(self, pairs: Sequence[tuple[str, str]]) -> str:
        return "json_object(" + ", ".join(f"{literal(k)}, {v}" for k, v in pairs) + ")"

    def joined(self, objects: Sequence[str]) -> str:
        # Each object's text without its braces: every character before the last (a negative
        # length counts back from the start), from the second on.
        inner = " || ',' || ".join(f"substr(substr({b}, -1, -2147483647), 2)" for b in objects)
        return f"json('{{' || {inner} || '}}')"

    def nested(self, expression: str) -> str:
        return f"json({expression})"

    def ordered(self, element: str, source: str, order: str) -> str:
        return (
            f"json((SELECT json_group_array(json(hub_o.o)) FROM (SELECT {element} AS o "
            f"{source} ORDER BY {order}) hub_o))"
        )

    def aggregate(self, element: str, order: str, within: str) -> str:
        return f"json_group_array({element}) {within}"

    def pick(self, element: str, order: str, within: str, *, last: bool) -> str:
        return f"json_extract(json_group_array({element}) {within}, '$[{'#-1' if last else 0}]')"

    def boolean(self, expression: str) -> str:
        return (
            f"json(CASE WHEN ({expression}) IS NULL THEN NULL WHEN ({expression}) "
            "THEN 'true' ELSE 'false' END)"
        )

    def truth(self, value: bool) -> str:
        return f"json('{'true' if value else 'false'}')"

    def answer(self, expression: str) -> str:
        return f"SELECT {expression}"

    def base64url(self, expression: str) -> str:
        return f"{SQLITE_BASE64URL}({expression})"

    def datetime(self, expression: str) -> str:
        # Stored as UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's format, UTCDateTime);
        # isoformat leaves out a fraction of zero.
        return (
            f"CASE WHEN {expression} IS NULL THEN NULL ELSE substr({expression}, 1, 10) || 'T' "
            f"|| substr({expression}, 12, 8) || CASE WHEN substr({expression}, 20) IN "
            f"('', '.000000') THEN '' ELSE substr({expression}, 20, 7) END || '+00:00' END"
        )

    def date_text(self, expression: str) -> str:
        return expression  # stored as ISO text

    def json_text(self, expression: str) -> str:
        return f"json_quote({expression})"

    def integer_text(self, expression: str) -> str:
        return f"CAST({expression} AS TEXT)"

    def integer(self, expression: str) -> str:
        return f"CAST({expression} AS INTEGER)"

    def unnest(self, first: str, second: str, alias: str) -> str:
        return (
            f"(SELECT hub_u.value AS t, json_extract({second}, '$[' || hub_u.key || ']') AS k, "
            f"hub_u.key + 1 AS n FROM json_each({first}) hub_u) {alias}"
        )

    def each(self, values: str, alias: str) -> str:
        return (
            f"(SELECT hub_e.value AS v, hub_e.key + 1 AS n FROM json_each({values}) hub_e) {alias}"
        )


POSTGRESQL_DIALECT = PostgreSQL()
SQLITE_DIALECT = SQLite()

DIALECTS: dict[str, SqlDialect] = {d.name: d for d in (POSTGRESQL_DIALECT, SQLITE_DIALECT)}
"""By SQLAlchemy's name of the database."""
