"""Compiling a validated read operation into one PostgreSQL statement that writes the answer.

The compiler walks the operation against the tier's schema and the SQL forms of its types
(``relations``). Every field must be one it knows: a plain column, a node ID, a computed value,
a link to one object, a connection (nodes, edges with cursors, page info, total count). Any
other field (personal data, anything behind a scope, search, lists without pages), any
directive, any field merged from two selections: the operation is not compilable, and the
resolvers answer it as before. So the compiled path is never a second implementation of the
rare cases, only of the common reads, and a test holds it to the resolvers' answers.

Arguments are read at request time (``Plan.bind``) with the same parsers the resolvers use
(``parse_uscc``, ``page_request``'s bounds, ``decode_cursor``); a value the parsers refuse
sends the request to the resolvers, which report the error as they always do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
)
from sqlalchemy import Date, DateTime, Integer

from hub.blacklist.models import ListType
from hub.enterprise.models import CreditGrade, EnterpriseStatus
from hub.enterprise.repository import SORT_KEYS, EnterpriseSort
from hub.kit.codes import parse_region_code, parse_uscc
from hub.kit.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decode_cursor
from schema.access import access_of
from schema.compiled.relations import RELATIONS, Argument, ListLink, Relation

DEFINITION = "strawberry-definition"


class NotCompilableError(Exception):
    """The operation asks for something only the resolvers answer; the message says what."""


class FallbackError(Exception):
    """This request's arguments need the resolvers (to be refused, usually)."""


_MISSING: Any = object()


# ---------------------------------------------------------------------------------------------
# Arguments: read from the document's literals and the request's variables.


@dataclass(frozen=True, slots=True)
class Input:
    """One argument of the operation; ``parse`` turns its GraphQL value into what SQL needs."""

    index: int
    node: ValueNode | None
    parse: Callable[[Any], Any]

    @property
    def constant(self) -> bool:
        """Whether the value is the document's own, the same in every request (no variable)."""
        return self.node is None or not _has_variables(self.node)

    def value(self, variables: Mapping[str, Any], defaults: Mapping[str, ValueNode]) -> Any:
        raw = _raw(self.node, variables, defaults) if self.node is not None else _MISSING
        try:
            return self.parse(None if raw is _MISSING else raw)
        except FallbackError:
            raise
        except Exception as error:
            raise FallbackError(str(error)) from None


def _has_variables(node: ValueNode) -> bool:
    if isinstance(node, VariableNode):
        return True
    if isinstance(node, ListValueNode):
        return any(_has_variables(v) for v in node.values)
    if isinstance(node, ObjectValueNode):
        return any(_has_variables(f.value) for f in node.fields)
    return False


def _raw(node: ValueNode, variables: Mapping[str, Any], defaults: Mapping[str, ValueNode]) -> Any:
    if isinstance(node, VariableNode):
        name = node.name.value
        if name in variables:
            return variables[name]
        default = defaults.get(name)
        return _MISSING if default is None else _raw(default, variables, defaults)
    if isinstance(node, NullValueNode):
        return None
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, FloatValueNode):
        return float(node.value)
    if isinstance(node, StringValueNode | EnumValueNode):
        return node.value
    if isinstance(node, BooleanValueNode):
        return node.value
    if isinstance(node, ListValueNode):
        return [_raw(v, variables, defaults) for v in node.values]
    if isinstance(node, ObjectValueNode):
        found = {f.name.value: _raw(f.value, variables, defaults) for f in node.fields}
        return {k: v for k, v in found.items() if v is not _MISSING}
    raise FallbackError(f"unexpected value {node.kind}")


def _variables_in(node: ValueNode | None) -> Iterator[str]:
    if isinstance(node, VariableNode):
        yield node.name.value
    elif isinstance(node, ListValueNode):
        for value in node.values:
            yield from _variables_in(value)
    elif isinstance(node, ObjectValueNode):
        for item in node.fields:
            yield from _variables_in(item.value)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise FallbackError("not a string")
    return value


def _first(value: Any) -> int:
    if value is None:
        return DEFAULT_PAGE_SIZE
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_PAGE_SIZE:
        raise FallbackError("first out of range")
    return value


def _enum(cls: type[Enum]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str) or value not in cls.__members__:
            raise FallbackError(f"not a {cls.__name__}")
        return cls[value].value

    return parse


def _after(width: int) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        return None if value is None else decode_cursor(_string(value), width)

    return parse


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(_string(value))


def _region(value: Any) -> str | None:
    return None if value is None else parse_region_code(_string(value))


_BLACKLIST_FILTER: Mapping[str, tuple[str, Callable[[Any], Any]]] = {
    "regionCode": ("region_code", _region),
    "listType": ("list_type", _enum(ListType)),
    "listedAfter": ("listed_after", _date),
    "listedBefore": ("listed_before", _date),
}
"""``BlacklistFilterInput``'s fields: the ``BlacklistFilter`` field each one sets, and how."""


def _grades(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        value = [value]  # a single value where a list is expected is a list of one (GraphQL)
    return [_enum(CreditGrade)(v) for v in value]


def _refuse(value: Any) -> Any:
    raise FallbackError(f"unexpected value {value!r}")


_ENTERPRISE_FILTER: Mapping[str, tuple[str, Callable[[Any], Any]]] = {
    "regionCode": ("region_code", _region),
    "industryCode": ("industry_code", lambda v: None if v is None else _string(v)),
    "creditGrade": ("credit_grade", _enum(CreditGrade)),
    "creditGrades": ("credit_grades", _grades),
    "status": ("status", _enum(EnterpriseStatus)),
    "blacklisted": ("blacklisted", lambda v: v if v is None or isinstance(v, bool) else _refuse(v)),
}
"""``EnterpriseFilterInput``'s fields: the ``EnterpriseFilter`` field each one sets, and how."""


def _filter(
    fields: Mapping[str, tuple[str, Callable[[Any], Any]]],
) -> Callable[[Any], dict[str, Any]]:
    """A filter argument read into the repository's filter fields (None ones left out)."""

    def parse(value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict) or not set(value) <= set(fields):
            raise FallbackError("a filter the compiled path does not know")
        parsed = {}
        for key, item in value.items():
            name, read = fields[key]
            parsed[name] = read(item)
        return {name: item for name, item in parsed.items() if item is not None}

    return parse


_blacklist_filter = _filter(_BLACKLIST_FILTER)
_read_enterprise_filter = _filter(_ENTERPRISE_FILTER)


def _enterprise_filter(value: Any) -> dict[str, Any]:
    """``CreditQuery.enterprises``' filter: the two grade arguments become one list."""
    parsed = _read_enterprise_filter(value)
    grades = parsed.pop("credit_grades", None) or []
    one = parsed.pop("credit_grade", None)
    if one is not None:
        grades = [*grades, one]
    if grades:
        parsed["credit_grades"] = grades
    return parsed


def _enterprise_order(node: ValueNode | None) -> tuple[tuple[str, ...], bool]:
    """``EnterpriseSort`` as given in the document: SORT_KEYS of the repository."""
    if node is None:
        order = EnterpriseSort.NEWEST
    elif isinstance(node, EnumValueNode) and node.value in EnterpriseSort.__members__:
        order = EnterpriseSort[node.value]
    else:
        raise NotCompilableError("an order given by a variable")
    keys, descending = SORT_KEYS[order]
    return tuple(str(key.key) for key in keys), descending


# ---------------------------------------------------------------------------------------------
# What the operation asks for, as a tree the renderer turns into SQL.


@dataclass(frozen=True, slots=True)
class Const:
    value: str


@dataclass(frozen=True, slots=True)
class NodeId:
    type_name: str


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    datetime: bool


@dataclass(frozen=True, slots=True)
class Computed:
    relation: Relation
    name: str


@dataclass(frozen=True, slots=True)
class Link:
    column: str
    key: str
    target: Obj


@dataclass(frozen=True, slots=True)
class Listing:
    """A list field without pages: every row of ``link`` the caller may see, in order."""

    link: ListLink
    target: Obj


@dataclass(frozen=True, slots=True)
class Obj:
    relation: Relation
    fields: list[tuple[str, Out]]


@dataclass(frozen=True, slots=True)
class Condition:
    """``column = value`` of an argument; absent when the argument is null."""

    input: Input
    column: str


@dataclass(frozen=True, slots=True)
class Conn:
    relation: Relation
    parent: str | None
    first: Input
    after: Input | None
    conditions: list[Condition]
    filter: Input | None
    fields: list[tuple[str, Any]]
    """(key, "nodes" Obj | "edges" [(key, Const | "cursor" | Obj)] | "pageInfo" [(key, str)]
    | "totalCount" | Const)"""
    keys: tuple[str, ...] = ()
    """The sort key, when it is not the relation's own."""
    descending: bool = True

    @property
    def sort(self) -> tuple[str, ...]:
        return self.keys or self.relation.keys


@dataclass(frozen=True, slots=True)
class Root:
    """``enterprise(uscc:)``: the one row whose ``column`` equals the argument."""

    target: Obj
    column: str
    input: Input


Out = Const | NodeId | Column | Computed | Link | Listing | Conn


@dataclass
class Operation:
    roots: list[tuple[str, Root | Conn]]
    inputs: list[Input]
    defaults: dict[str, ValueNode] = field(default_factory=dict)
    first_variables: frozenset[str] = frozenset()


class Compiler:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.inputs: list[Input] = []
        self.first_variables: set[str] = set()

    def compile(self) -> Operation:
        if self.operation.operation is not OperationType.QUERY:
            raise NotCompilableError("only queries are compiled")
        if self.operation.directives:
            raise NotCompilableError("directives on the operation")
        query = self.schema.query_type
        assert query is not None
        roots: list[tuple[str, Root | Conn]] = []
        for key, node in self.collect(self.operation.selection_set, query):
            roots.append((key, self.root(node, query)))
        defaults: dict[str, ValueNode] = {
            d.variable.name.value: d.default_value
            for d in self.operation.variable_definitions or ()
            if d.default_value is not None
        }
        return Operation(roots, self.inputs, defaults, frozenset(self.first_variables))

    # -- selections -------------------------------------------------------------------------

    def collect(
        self, selection_set: SelectionSetNode, parent: GraphQLObjectType
    ) -> list[tuple[str, FieldNode]]:
        """The fields of a selection set, with fragments of the same type flattened in."""
        found: dict[str, FieldNode] = {}
        for node in self._fields(selection_set, parent, set()):
            key = node.alias.value if node.alias else node.name.value
            if key in found:
                raise NotCompilableError(f"the response key {key} is selected twice")
            found[key] = node
        return list(found.items())

    def _fields(
        self, selection_set: SelectionSetNode, parent: GraphQLObjectType, seen: set[str]
    ) -> Iterator[FieldNode]:
        for selection in selection_set.selections:
            if selection.directives:
                raise NotCompilableError("directives")
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is not None and condition.name.value != parent.name:
                    raise NotCompilableError("a fragment on another type")
                yield from self._fields(selection.selection_set, parent, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    raise NotCompilableError("a fragment spread twice or unknown")
                if fragment.type_condition.name.value != parent.name:
                    raise NotCompilableError("a fragment on another type")
                yield from self._fields(fragment.selection_set, parent, seen | {name})

    def _arguments(self, node: FieldNode, allowed: set[str]) -> dict[str, ValueNode]:
        given = {a.name.value: a.value for a in node.arguments or ()}
        unknown = set(given) - allowed
        if unknown:
            raise NotCompilableError(f"arguments {sorted(unknown)}")
        return given

    def _input(self, node: ValueNode | None, parse: Callable[[Any], Any]) -> Input:
        made = Input(len(self.inputs), node, parse)
        self.inputs.append(made)
        return made

    def _object_type(self, parent: GraphQLObjectType, node: FieldNode) -> GraphQLObjectType:
        definition = parent.fields[node.name.value]
        named = get_named_type(definition.type)
        if not isinstance(named, GraphQLObjectType):
            raise NotCompilableError(f"{parent.name}.{node.name.value} is not an object")
        return named

    def _check_access(self, parent: GraphQLObjectType, name: str) -> Any:
        definition = parent.fields.get(name)
        strawberry_field = (definition.extensions or {}).get(DEFINITION) if definition else None
        access = access_of(strawberry_field) if strawberry_field is not None else None
        if access is None or access.scopes:
            raise NotCompilableError(f"{parent.name}.{name} needs scopes or is not declared")
        return strawberry_field

    # -- fields -----------------------------------------------------------------------------

    def root(self, node: FieldNode, query: GraphQLObjectType) -> Root | Conn:
        name = node.name.value
        if name == "enterprise":
            self._check_access(query, name)
            arguments = self._arguments(node, {"uscc"})
            target = self.object(node, self._object_type(query, node))
            return Root(target, "uscc", self._input(arguments.get("uscc"), _uscc))
        if name == "blacklist":
            self._check_access(query, name)
            arguments = self._arguments(node, {"filter", "first", "after"})
            relation = RELATIONS["BlacklistEntry"]
            conn = self.connection(
                node, self._object_type(query, node), relation, None, {}, {"filter"}
            )
            filter = self._input(arguments.get("filter"), _blacklist_filter)
            return Conn(conn.relation, None, conn.first, conn.after, [], filter, conn.fields)
        if name == "enterprises":
            self._check_access(query, name)
            arguments = self._arguments(node, {"filter", "order", "first", "after"})
            keys, descending = _enterprise_order(arguments.get("order"))
            relation = RELATIONS["Enterprise"]
            conn = self.connection(
                node, self._object_type(query, node), relation, None, {}, {"filter", "order"}, keys
            )
            filter = self._input(arguments.get("filter"), _enterprise_filter)
            return Conn(
                relation, None, conn.first, conn.after, [], filter, conn.fields, keys, descending
            )
        raise NotCompilableError(f"Query.{name}")

    def object(self, node: FieldNode, type_: GraphQLObjectType) -> Obj:
        relation = RELATIONS.get(type_.name)
        if relation is None or node.selection_set is None:
            raise NotCompilableError(f"type {type_.name}")
        fields: list[tuple[str, Out]] = []
        for key, child in self.collect(node.selection_set, type_):
            fields.append((key, self.field(child, type_, relation)))
        return Obj(relation, fields)

    def field(self, node: FieldNode, parent: GraphQLObjectType, relation: Relation) -> Out:
        name = node.name.value
        if name == "__typename":
            return Const(parent.name)
        definition = self._check_access(parent, name)
        if name == "id" and any(i.name == "Node" for i in parent.interfaces):
            self._arguments(node, set())
            return NodeId(parent.name)
        if name in relation.computed:
            self._arguments(node, set())
            return Computed(relation, name)
        if name in relation.objects:
            self._arguments(node, set())
            one = relation.objects[name]
            target = self.object(node, self._object_type(parent, node))
            if target.relation.type_name != one.target:
                raise NotCompilableError(f"{parent.name}.{name}")
            return Link(one.column, one.key, target)
        if name in relation.lists:
            self._arguments(node, set())
            many = relation.lists[name]
            target = self.object(node, self._object_type(parent, node))
            if target.relation.type_name != many.target:
                raise NotCompilableError(f"{parent.name}.{name}")
            return Listing(many, target)
        if name in relation.connections:
            many = relation.connections[name]
            return self.connection(
                node,
                self._object_type(parent, node),
                RELATIONS[many.target],
                many.parent,
                many.arguments,
            )
        column = relation.column(definition.python_name)
        if definition.base_resolver is None and column is not None and not node.arguments:
            sql_type = relation.model.__table__.columns[column].type
            stored = getattr(sql_type, "impl", sql_type)
            return Column(column, datetime=isinstance(stored, DateTime))
        raise NotCompilableError(f"{parent.name}.{name}")

    def connection(
        self,
        node: FieldNode,
        type_: GraphQLObjectType,
        relation: Relation,
        parent: str | None,
        filters: Mapping[str, Argument],
        more: set[str] | None = None,
        keys: tuple[str, ...] = (),
    ) -> Conn:
        arguments = self._arguments(node, {"first", "after", *filters, *(more or ())})
        if node.selection_set is None:
            raise NotCompilableError("a connection without selections")
        first_node = arguments.get("first")
        self.first_variables.update(_variables_in(first_node))
        first = self._input(first_node, _first)
        after_node = arguments.get("after")
        after = None
        sort = keys or relation.keys
        if after_node is not None:
            self._cursor_keys(relation, sort)
            after = self._input(after_node, _after(len(sort)))
        conditions = [
            Condition(self._input(arguments.get(name), _enum_or_value(argument)), argument.column)
            for name, argument in filters.items()
            if name in arguments
        ]
        fields: list[tuple[str, Any]] = []
        for key, child in self.collect(node.selection_set, type_):
            name = child.name.value
            if name == "__typename":
                fields.append((key, Const(type_.name)))
                continue
            self._arguments(child, set())
            child_type = type_.fields[name]
            if name == "nodes":
                node_type = get_named_type(child_type.type)
                assert isinstance(node_type, GraphQLObjectType)
                fields.append((key, ("nodes", self.object(child, node_type))))
            elif name == "edges":
                fields.append((key, ("edges", self.edges(child, child_type, relation, sort))))
            elif name == "pageInfo":
                fields.append((key, ("pageInfo", self.page_info(child, relation, sort))))
            elif name == "totalCount":
                fields.append((key, ("totalCount", None)))
            else:
                raise NotCompilableError(f"{type_.name}.{name}")
        return Conn(relation, parent, first, after, conditions, None, fields)

    def edges(
        self, node: FieldNode, definition: Any, relation: Relation, sort: tuple[str, ...]
    ) -> list[Any]:
        edge_type = get_named_type(definition.type)
        assert isinstance(edge_type, GraphQLObjectType) and node.selection_set is not None
        out: list[Any] = []
        for key, child in self.collect(node.selection_set, edge_type):
            self._arguments(child, set())
            name = child.name.value
            if name == "__typename":
                out.append((key, Const(edge_type.name)))
            elif name == "cursor":
                self._cursor_keys(relation, sort)
                out.append((key, "cursor"))
            elif name == "node":
                node_type = get_named_type(edge_type.fields["node"].type)
                assert isinstance(node_type, GraphQLObjectType)
                out.append((key, self.object(child, node_type)))
            else:
                raise NotCompilableError(f"{edge_type.name}.{name}")
        return out

    def page_info(
        self, node: FieldNode, relation: Relation, sort: tuple[str, ...]
    ) -> list[tuple[str, Any]]:
        assert node.selection_set is not None
        info_type = self.schema.get_type("PageInfo")
        assert isinstance(info_type, GraphQLObjectType)
        out: list[tuple[str, Any]] = []
        for key, child in self.collect(node.selection_set, info_type):
            self._arguments(child, set())
            name = child.name.value
            if name == "__typename":
                out.append((key, Const("PageInfo")))
                continue
            if name in ("startCursor", "endCursor"):
                self._cursor_keys(relation, sort)
            out.append((key, name))
        return out

    def _cursor_keys(self, relation: Relation, sort: tuple[str, ...]) -> None:
        """Cursors are rendered in SQL for sort keys of dates and integers only."""
        columns = relation.model.__table__.columns
        *leading, last = sort
        if not all(isinstance(columns[k].type, Date) for k in leading) or not isinstance(
            columns[last].type, Integer
        ):
            raise NotCompilableError(f"cursors of {relation.type_name}")


def _uscc(value: Any) -> str:
    return parse_uscc(_string(value))


def _enum_or_value(argument: Argument) -> Callable[[Any], Any]:
    if argument.enum is not None:
        return _enum(argument.enum)
    return lambda value: value
