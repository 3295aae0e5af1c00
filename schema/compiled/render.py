"""Rendering a compiled operation as one SQL statement that builds the JSON answer.

One statement per request whatever the operation nests: each object is a JSON object of its
fields, each link a correlated subquery on the linked row, each connection an
aggregate over its rows, ranked by the repository's sort key and cut at ``first`` (plus one
row, to tell whether a next page exists). A request's values never enter the text: every
argument given by a variable is a parameter, so PostgreSQL prepares each statement once per
connection. What the planner should see is written in: the document's own argument values
(``first: 50``, ``regionCode: "440000"``), the same in every request, as literals (see
``sql_constant``), and the row rules' instant as the transaction's own (``Instant``). With
them it estimates rows in the one generic plan it keeps for the statement; a parameter in
their place is an unknown, which made PostgreSQL plan W2's page afresh on every request, or
sort every listing of the province in a generic plan.

Arguments that may be null decide whether a condition exists at all (``status: null`` means
no filter), so an operation has one statement per combination of its null arguments, its
*shape*; ``Plan`` renders each shape when it first meets it.

The statement is written for PostgreSQL or SQLite: one renderer, whose dialect
(``schema.compiled.dialects``) supplies the few pieces the two spell differently. On SQLite the
row rules' instant is the request's own, bound as two parameters (SQLite has no transaction
timestamp), as the resolvers' session fixes it there (``Instant.for_dialect``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Date, Select, Text, literal_column, select
from sqlalchemy.types import TypeEngine

from hub.kit.sql import Parameter
from hub.kit.time import Instant, UTCDateTime
from schema.compiled.compiler import (
    Column,
    Computed,
    Conn,
    Const,
    EntitiesRoot,
    GlobalId,
    Input,
    Link,
    Listing,
    NodeId,
    NodeRoot,
    Obj,
    Operation,
    Out,
    Root,
    RootOut,
    SearchRoot,
    cursor_kind,
)
from schema.compiled.dialects import (
    MAX_PAIRS,
    POSTGRESQL_DIALECT,
    Getter,
    SqlDialect,
)
from schema.compiled.dialects import literal as _literal
from schema.compiled.relations import Relation


def signature(value: Any) -> Any:
    """What of an argument's value changes the statement: whether it (or each part) is null."""
    if isinstance(value, GlobalId):  # the type the ID names: which table, which fields
        return value.type_name
    if isinstance(value, dict):  # a filter: which conditions, and each yes-or-no condition's way
        return tuple(
            sorted(
                (k, v if isinstance(v, bool) else True) for k, v in value.items() if v is not None
            )
        )
    return value is not None


def json_object(pairs: Sequence[tuple[str, str]], dialect: SqlDialect = POSTGRESQL_DIALECT) -> str:
    """A JSON object of ``pairs`` (key, SQL expression), in order, of any number of keys."""
    chunks = [pairs[i : i + MAX_PAIRS] for i in range(0, max(len(pairs), 1), MAX_PAIRS)]
    return _joined([dialect.object(chunk) for chunk in chunks], dialect)


def _joined(objects: Sequence[str], dialect: SqlDialect) -> str:
    """One JSON object of the keys of ``objects`` (none of them empty), in order."""
    if len(objects) == 1:
        return objects[0]
    return dialect.joined(objects)


def _source(relation: Relation, alias: str) -> Any:
    return relation.model.__table__.alias(alias)


def sql_text(
    expression: ColumnElement[Any], source: Any, dialect: SqlDialect = POSTGRESQL_DIALECT
) -> str:
    """A repository's expression over ``source`` (an alias of a table), as SQL text to write
    into a statement where that alias is in scope.

    Rendered inside a select from ``source``, so that its subqueries correlate with the alias
    rather than read the table again, then cut out of that select.
    """
    sa = dialect.sqlalchemy
    statement = select(expression.label("hub_value")).select_from(source)
    text = str(statement.compile(dialect=sa, compile_kwargs={"literal_binds": True}))
    empty: Select[Any] = select(literal_column("1").label("hub_value")).select_from(source)
    tail = str(empty.compile(dialect=sa)).removeprefix("SELECT 1")
    if not text.startswith("SELECT ") or not text.endswith(tail):
        raise AssertionError(f"unexpected rendering of a rule: {text}")
    return "(" + text[len("SELECT ") : -len(tail)] + ")"


class _Argument(Parameter):
    """A field of a filter argument, as the statement's parameter (``hub.kit.sql``)."""

    def __init__(self, renderer: Renderer, input: Input, name: str) -> None:
        self.renderer = renderer
        self.input = input
        self.name = name

    def derive(
        self, compute: Callable[[Any], Any], type_: TypeEngine[Any] | None = None
    ) -> ColumnElement[Any]:
        cast = self.renderer.dialect.cast(type_)
        return literal_column(self.renderer.value(self.input, cast, part=self._part(compute)))

    def includes(self, column: Any) -> ColumnElement[bool]:
        dialect = self.renderer.dialect
        cast = dialect.cast(column.type, many=True)
        array = self.renderer.value(self.input, cast, part=self._part(list))
        return dialect.includes(column, array)

    def _part(self, compute: Callable[[Any], Any]) -> Callable[[Any], Any]:
        name = self.name
        return lambda value: compute(value[name])


class Renderer:
    def __init__(
        self,
        operation: Operation,
        shape: Sequence[Any],
        values: Sequence[Any],
        *,
        sees_unpublished: bool,
        dialect: SqlDialect = POSTGRESQL_DIALECT,
    ) -> None:
        self.operation = operation
        self.shape = shape
        self.values = values
        self.sees_unpublished = sees_unpublished
        self.dialect = dialect
        self.getters: list[Getter] = []
        self._aliases = 0
        self._instant: Instant | None = None

    @property
    def instant(self) -> Instant:
        """The instant of the row rules (``SqlDialect.instant``), made when first needed: a
        statement without rules has no parameters for it."""
        if self._instant is None:
            self._instant = self.dialect.instant(self.param)
        return self._instant

    def render(self) -> str:
        """The statement: a run of roots that differ only in their argument is one lookup."""
        objects: list[str] = []
        pairs: list[tuple[str, str]] = []
        ctes: list[str] = []
        for run in _runs(self.operation.roots, batched=self.dialect.batches_lookups):
            if len(run) == 1:
                pairs += [(key, self.root(root)) for key, root in run]
                continue
            if pairs:
                objects.append(self.json_object(pairs))
                pairs = []
            name = f"b{len(ctes) + 1}"
            ctes.append(f"{name} AS ({self.lookups(run)})")
            objects.append(f"{name}.o")
        if pairs or not objects:
            objects.append(self.json_object(pairs))
        select = self.dialect.answer(_joined(objects, self.dialect))
        if not ctes:
            return select
        sources = ", ".join(f"b{n}" for n in range(1, len(ctes) + 1))
        return f"WITH {', '.join(ctes)} {select} FROM {sources}"

    def lookups(self, run: Roots) -> str:
        """The object of a run of roots, one index probe per key, keys in the run's order
        (PostgreSQL's: ``SqlDialect.batches_lookups``).

        ``json_object_agg`` over the run's keys and aliases, rather than an array of answers
        and a ``json_build_object`` of its elements: a subscript of an array of variable-length
        values walks the array from its start, and the whole cost twice as much (W3).
        """
        model = run[0][1]
        assert isinstance(model, Root)
        inputs = [root.input for _, root in run if isinstance(root, Root)]
        relation = model.target.relation
        column = relation.model.__table__.columns[model.column]
        indexes = [i.index for i in inputs]
        keys = self.bound(
            inputs,
            lambda values: [values[i] for i in indexes],
            self.dialect.cast(column.type, many=True),
        )
        aliases = "ARRAY[" + ", ".join(_literal(key) for key, _ in run) + "]::text[]"
        alias = self.alias()
        conditions = [f"{alias}.{model.column} = k.v", *self.rules(relation, alias)]
        return (
            f"SELECT json_object_agg(k.alias, x.o ORDER BY k.n) AS o FROM unnest({keys}, "
            f"{aliases}) WITH ORDINALITY AS k(v, alias, n) LEFT JOIN LATERAL (SELECT "
            f"{self.object(model.target, alias)} AS o FROM {relation.table} {alias} "
            f"WHERE {' AND '.join(conditions)}) x ON true"
        )

    # -- parameters -------------------------------------------------------------------------

    def json_object(self, pairs: Sequence[tuple[str, str]]) -> str:
        return json_object(pairs, self.dialect)

    def param(self, getter: Getter, cast: str = "") -> str:
        self.getters.append(getter)
        return self.dialect.placeholder(len(self.getters), cast)

    def value(self, input: Input, cast: str = "", part: Callable[[Any], Any] | None = None) -> str:
        index = input.index
        if part is None:
            return self.bound([input], lambda values: values[index], cast)
        return self.bound([input], lambda values: part(values[index]), cast)

    def bound(self, inputs: Sequence[Input], pick: Getter, cast: str) -> str:
        """What ``pick`` takes from the argument values: written in as a literal when the
        document itself gives every one of ``inputs`` (``sql_constant``), else a parameter."""
        if all(i.constant for i in inputs):
            constant = sql_constant(pick(self.values), self.dialect)
            if constant is not None:
                return self.dialect.constant(constant, cast)
        return self.param(pick, cast)

    def present(self, input: Input) -> Any:
        return self.shape[input.index]

    def alias(self) -> str:
        self._aliases += 1
        return f"t{self._aliases}"

    # -- the tree ---------------------------------------------------------------------------

    def root(self, root: RootOut) -> str:
        if isinstance(root, SearchRoot):
            return self.search(root)
        if isinstance(root, Conn):
            return self.connection(root, None)
        if isinstance(root, EntitiesRoot):
            return self.entities(root)
        if isinstance(root, NodeRoot):
            type_name = self.present(root.input)
            alias = self.alias()
            pk = self.value(root.input, "::bigint", part=lambda value: value.pk)
            return self.one(root.candidates[type_name], alias, f"{alias}.id = {pk}")
        alias = self.alias()
        return self.one(root.target, alias, f"{alias}.{root.column} = {self.value(root.input)}")

    def entities(self, root: EntitiesRoot) -> str:
        """Each representation's object or null, in order: one branch per type it may name."""
        types = self.value(root.input, "::text[]", part=lambda found: [t for t, _ in found])
        keys = self.value(
            root.input,
            "::text[]",
            part=lambda found: [None if k is None else str(k) for _, k in found],
        )
        given = self.alias()
        branches = []
        for type_name, obj in root.candidates.items():
            alias = self.alias()
            column = root.keys[type_name]
            key = self.dialect.integer(f"{given}.k") if column == "id" else f"{given}.k"
            found = self.one(obj, alias, f"{alias}.{column} = {key}")
            branches.append(f"WHEN {_literal(type_name)} THEN {found}")
        return self.dialect.ordered(
            f"CASE {given}.t {' '.join(branches)} END",
            f"FROM {self.dialect.unnest(types, keys, given)}",
            f"{given}.n",
        )

    def search(self, root: SearchRoot) -> str:
        """What a search's answer takes from the database: each hit's object of every ``hits``
        selection (``h0``, ``h1``...), null where the row rule hides it, and the row of each
        named facet's code (by the facet's name), all in the order of the search's lists."""
        pairs = [
            (f"h{n}", self.keyed(obj, "id", root.ids, "::bigint[]"))
            for n, obj in enumerate(root.hits)
        ]
        for facet, (obj, codes) in root.names.items():
            pairs.append((facet, self.keyed(obj, "code", codes, "::text[]")))
        return self.json_object(pairs)

    def keyed(self, obj: Obj, column: str, keys: Input, cast: str) -> str:
        """The JSON array of the objects of the rows whose ``column`` is each of ``keys`` (a
        list the request gives, always a parameter), in its order: null for a key without
        a row the caller may see."""
        index = keys.index
        values = self.param(lambda given: given[index], cast)
        given, alias = self.alias(), self.alias()
        found = self.one(obj, alias, f"{alias}.{column} = {given}.v")
        return self.dialect.ordered(found, f"FROM {self.dialect.each(values, given)}", f"{given}.n")

    def one(self, obj: Obj, alias: str, condition: str) -> str:
        """The object of the one row ``alias`` meeting ``condition`` that the caller may see."""
        relation = obj.relation
        conditions = [condition, *self.rules(relation, alias)]
        return self.dialect.nested(
            f"(SELECT {self.object(obj, alias)} FROM {relation.table} {alias} "
            f"WHERE {' AND '.join(conditions)})"
        )

    def rules(self, relation: Relation, alias: str) -> list[str]:
        source = _source(relation, alias)
        rule = relation.rule(source.c, self.instant, self.sees_unpublished)
        return [] if rule is None else [self.sql_text(rule, source)]

    def sql_text(self, expression: ColumnElement[Any], source: Any) -> str:
        return sql_text(expression, source, self.dialect)

    def object(self, obj: Obj, alias: str) -> str:
        return self.json_object([(key, self.field(out, alias)) for key, out in obj.fields])

    def field(self, out: Out, alias: str) -> str:
        if isinstance(out, Const):
            return _literal(out.value)
        if isinstance(out, Column):
            column = f"{alias}.{out.name}"
            if out.boolean:
                return self.dialect.boolean(column)
            return self.dialect.datetime(column) if out.datetime else column
        if isinstance(out, NodeId):
            return self.dialect.base64url(f"{_literal(out.type_name + ':')} || {alias}.id")
        if isinstance(out, Computed):
            source = _source(out.relation, alias)
            value = self.sql_text(out.relation.computed[out.name](source.c, self.instant), source)
            return self.dialect.boolean(value) if out.boolean else value
        if isinstance(out, Link):
            inner = self.alias()
            return self.one(out.target, inner, f"{inner}.{out.key} = {alias}.{out.column}")
        if isinstance(out, Listing):
            return self.listing(out, alias)
        return self.connection(out, alias)

    def listing(self, listing: Listing, parent: str) -> str:
        """Every row of the list the caller may see, as a JSON array in the list's order."""
        relation, link = listing.target.relation, listing.link
        rows = self.alias()
        source = f"{relation.table} {rows}"
        belongs = f"{rows}.{link.parent} = {parent}.id"
        if link.through is not None:
            linked = self.alias()
            through = link.through
            source += f" JOIN {through.table} {linked} ON {linked}.{through.target} = {rows}.id"
            belongs = f"{linked}.{through.source} = {parent}.id"
        conditions = [belongs, *self.rules(relation, rows)]
        direction = " DESC" if link.descending else ""
        order = ", ".join(f"{rows}.{key}{direction}" for key in link.keys)
        return self.dialect.ordered(
            self.object(listing.target, rows),
            f"FROM {source} WHERE {' AND '.join(conditions)}",
            order,
        )

    # -- connections ------------------------------------------------------------------------

    def conditions(self, conn: Conn, alias: str, parent: str | None) -> list[str]:
        """The rows of the whole list: parent, row rules, filter arguments."""
        relation = conn.relation
        found = [] if parent is None else [f"{alias}.{conn.parent} = {parent}.id"]
        found += self.rules(relation, alias)
        if conn.filter is not None and relation.filter is not None:
            source = _source(relation, alias)
            # A yes-or-no value decides the condition's form and is part of the shape; the
            # others are the statement's parameters (or the document's constants).
            given = self.values[conn.filter.index]
            values = {
                name: given[name]
                if isinstance(given[name], bool)
                else _Argument(self, conn.filter, name)
                for name, _ in self.present(conn.filter)
            }
            conditions = relation.filter.of(source.c, values, self.instant)
            found += [self.sql_text(c, source) for c in conditions]
        return found

    def cursor(self, conn: Conn, alias: str) -> str:
        """``encode_cursor`` of a row's sort key, as orjson writes it."""
        dialect = self.dialect
        parts = []
        for key in conn.sort:
            column = f"{alias}.{key}"
            kind = cursor_kind(conn.relation, key)
            if kind == "date":
                parts.append(f"""'{{"d":"' || {dialect.date_text(column)} || '"}}'""")
            elif kind == "datetime":
                parts.append(f"""'{{"t":"' || {dialect.datetime(column)} || '"}}'""")
            elif kind == "text":
                parts.append(dialect.json_text(column))
            else:
                parts.append(dialect.integer_text(column))
        text = " || ',' || ".join(parts)
        return dialect.base64url(f"'[' || {text} || ']'")

    def connection(self, conn: Conn, parent: str | None) -> str:
        relation = conn.relation
        needs_rows = any(_reads_rows(item) for _, item in conn.fields)
        first = self.value(conn.first, "::int") if needs_rows else "0"
        rows = self.alias()
        within = f"FILTER (WHERE {rows}.hub_rank <= {first})"
        pairs: list[tuple[str, str]] = []
        for key, item in conn.fields:
            if isinstance(item, Const):
                pairs.append((key, _literal(item.value)))
                continue
            kind, inside = item
            if kind == "nodes":
                node = self.object(inside, rows)
                pairs.append((key, self.dialect.aggregate(node, f"{rows}.hub_rank", within)))
            elif kind == "edges":
                edge = self.json_object([(k, self.edge_field(v, conn, rows)) for k, v in inside])
                pairs.append((key, self.dialect.aggregate(edge, f"{rows}.hub_rank", within)))
            elif kind == "pageInfo":
                pairs.append((key, self.page_info(conn, inside, rows, first, within)))
            else:
                counted = self.alias()
                where = " AND ".join(self.conditions(conn, counted, parent)) or "TRUE"
                pairs.append(
                    (key, f"(SELECT count(*) FROM {relation.table} {counted} WHERE {where})")
                )
        built = self.json_object(pairs)
        if not needs_rows:
            return self.dialect.nested(f"(SELECT {built})")
        source = self.alias()
        conditions = self.conditions(conn, source, parent)
        if conn.after is not None and self.present(conn.after):
            conditions.append(self.keyset(conn, source))
        where = " AND ".join(conditions) or "TRUE"
        direction = "DESC" if conn.descending else "ASC"
        order = ", ".join(f"{source}.{k} {direction}" for k in conn.sort)
        # The page's rows, sorted: their aggregates read them in this order (``SqlDialect``).
        return self.dialect.nested(
            f"(SELECT {built} FROM (SELECT {source}.*, row_number() OVER (ORDER BY {order}) "
            f"AS hub_rank FROM {relation.table} {source} WHERE {where} "
            f"ORDER BY {order} LIMIT {first} + 1) {rows})"
        )

    def keyset(self, conn: Conn, alias: str) -> str:
        """Rows after the cursor: ``keyset_condition``."""
        assert conn.after is not None
        keys = conn.sort
        values = [
            self.value(
                conn.after,
                self.dialect.cast(_CASTS[str(cursor_kind(conn.relation, key))]),
                part=_item(i),
            )
            for i, key in enumerate(keys)
        ]
        columns = ", ".join(f"{alias}.{k}" for k in keys)
        return f"({columns}) {'<' if conn.descending else '>'} ({', '.join(values)})"

    def edge_field(self, item: Any, conn: Conn, rows: str) -> str:
        if isinstance(item, Const):
            return _literal(item.value)
        if item == "cursor":
            return self.cursor(conn, rows)
        return self.object(item, rows)

    def page_info(
        self, conn: Conn, fields: list[tuple[str, Any]], rows: str, first: str, within: str
    ) -> str:
        pairs = []
        for key, name in fields:
            if isinstance(name, Const):
                pairs.append((key, _literal(name.value)))
            elif name == "hasNextPage":
                pairs.append((key, self.dialect.boolean(f"count(*) > {first}")))
            elif name == "hasPreviousPage":
                given = conn.after is not None and self.present(conn.after)
                pairs.append((key, self.dialect.truth(bool(given))))
            else:
                cursor = self.cursor(conn, rows)
                last = name == "endCursor"
                pairs.append(
                    (key, self.dialect.pick(cursor, f"{rows}.hub_rank", within, last=last))
                )
        return self.json_object(pairs)


def _reads_rows(item: Any) -> bool:
    """Whether a connection's field is made of its page's rows (an aggregate over them).
    Without any, the connection is written without its rows, so that it is one row whether
    the page holds none or many: ``totalCount`` counts on its own, ``hasPreviousPage`` is
    whether ``after`` was given."""
    if isinstance(item, Const):
        return False
    kind, inside = item
    if kind == "pageInfo":
        return any(name in ("hasNextPage", "startCursor", "endCursor") for _, name in inside)
    return bool(kind in ("nodes", "edges"))


Roots = list[tuple[str, RootOut]]

_CASTS: dict[str, TypeEngine[Any]] = {
    "date": Date(),
    "datetime": UTCDateTime(),
    "text": Text(),
    "integer": BigInteger(),
}
"""The parameter types of a cursor's values, by ``cursor_kind``."""

_PLAIN = re.compile(r"[A-Za-z0-9_.:+-]*")
"""Text written in as a literal: codes, enum values, numbers; anything else stays a parameter."""


def sql_constant(value: Any, dialect: SqlDialect = POSTGRESQL_DIALECT) -> str | None:
    """A document's own argument value as an SQL literal, or None to leave it a parameter.

    Only values whose literal cannot mean anything else, whatever the server's settings
    (``standard_conforming_strings``, say): numbers, truth values, dates, and text of
    letters, digits and ``_.:+-``, such as USCCs, region codes and enum values.
    """
    if isinstance(value, Enum):
        value = value.value
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return dialect.timestamp(value)
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    if isinstance(value, str) and _PLAIN.fullmatch(value):
        return f"'{value}'"
    if isinstance(value, list | tuple):
        items = [sql_constant(v, dialect) for v in value]
        if any(item is None for item in items):
            return None
        return dialect.array(items)  # type: ignore[arg-type]
    return None


def _item(index: int) -> Callable[[Any], Any]:
    return lambda value: value[index]


def _has_inputs(obj: Obj) -> bool:
    """Whether anything below ``obj`` takes an argument (a connection's ``first``, say)."""
    for _, out in obj.fields:
        if isinstance(out, Conn):
            return True
        if isinstance(out, Link) and _has_inputs(out.target):
            return True
    return False


def _runs(roots: Roots, *, batched: bool) -> list[Roots]:
    """``roots`` cut into runs: neighbours that look up the same rows the same way share one
    (where the dialect ``batched`` them).

    Only neighbours, so that the answer keeps the document's order of keys.
    """
    runs: list[Roots] = []
    for key, root in roots:
        last = runs[-1][-1][1] if runs else None
        if (
            batched
            and isinstance(root, Root)
            and isinstance(last, Root)
            and not _has_inputs(root.target)
            and root.column == last.column
            and root.target == last.target
        ):
            runs[-1].append((key, root))
        else:
            runs.append([(key, root)])
    return runs
