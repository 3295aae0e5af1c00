"""Compiling a validated read operation into one SQL statement that writes the answer.

The compiler walks the operation against the tier's schema and the SQL forms of its types
(``relations``). Every field must be one it knows: a plain column, a node ID, a computed value,
a link to one object, a connection (nodes, edges with cursors, page info, total count), a
search field (its hits' records, the rest read from the search's answer:
``schema.compiled.search``). Any other field (personal data, anything behind a scope, lists
without pages): the
operation is not compilable, and the resolvers answer it
as before. ``@include`` and ``@skip`` are decided as graphql-core decides them, from the
document or from the values of the request's variables (``shape_variables``), as is a list's
``order``: the plan compiles once for each combination of those values. So the compiled path
is never a second implementation of the rare cases, only of the common reads, and a test holds
it to the resolvers' answers.

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
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NameNode,
    NullValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
)
from sqlalchemy import DateTime
from strawberry.utils.str_converters import to_camel_case

from hub.enterprise.models import CreditGrade, EnterpriseStatus
from hub.enterprise.repository import SORT_KEYS, EnterpriseSort
from hub.kit import pagination
from hub.kit.codes import parse_region_code
from hub.kit.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, check_cursor, decode_cursor
from schema.access import PUBLIC, access_of
from schema.compiled.relations import (
    FACET_NAMES,
    LISTS,
    LOOKUPS,
    RELATIONS,
    SEARCHES,
    Filtering,
    ListLink,
    Relation,
    Search,
)
from schema.federation.plan import ID_KEY, key_of
from schema.node import MAX_NODES, decode_id, fetchable

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


def _after(kinds: tuple[str | None, ...]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if value is None:
            return None
        values = decode_cursor(_string(value), len(kinds))
        check_cursor(values, kinds)
        return values

    return parse


def _date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(_string(value))


def _region(value: Any) -> str | None:
    return None if value is None else parse_region_code(_string(value))


def _grades(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        value = [value]  # a single value where a list is expected is a list of one (GraphQL)
    return [_enum(CreditGrade)(v) for v in value]


def _key_of(node: FieldNode) -> str:
    """A field's response key."""
    return node.alias.value if node.alias else node.name.value


def _given(value: Any) -> Any:
    return value


def _search_first(value: Any) -> int | None:
    """A search's ``first`` as the resolver receives it (the search service checks its
    range, and refuses it as the resolvers report)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise FallbackError("first is not a whole number")


def _mentions(
    selection_set: SelectionSetNode | None,
    path: tuple[str, ...],
    fragments: Mapping[str, FragmentDefinitionNode],
) -> bool:
    """Whether ``selection_set`` names the field at ``path`` (names, not aliases), through
    fragments and whatever their directives: as ``schema.search.queries._selects`` reads
    Strawberry's ``selected_fields``, which decide whether the search counts facets."""
    head, *rest = path
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            if selection.name.value == head and (
                not rest or _mentions(selection.selection_set, tuple(rest), fragments)
            ):
                return True
        elif isinstance(selection, InlineFragmentNode):
            if _mentions(selection.selection_set, path, fragments):
                return True
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None and _mentions(fragment.selection_set, path, fragments):
                return True
    return False


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
"""``EnterpriseFilterInput``'s fields: the ``EnterpriseFilter`` field each one sets, and how
(its two grade fields make one list, as ``CreditQuery.enterprises`` does)."""


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


def _reader(type_: GraphQLInputType, python_name: str) -> Callable[[Any], Any]:
    """How an argument (or input field) of ``type_`` is read: as the resolvers' Strawberry
    arguments arrive, and ``region_code``s as the resolvers parse them."""
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        read_item = _reader(inner.of_type, python_name)

        def read_list(value: Any) -> list[Any] | None:
            if value is None:
                return None
            items = value if isinstance(value, list) else [value]  # a list of one (GraphQL)
            return [read_item(item) for item in items]

        return read_list
    if isinstance(inner, GraphQLEnumType):
        return _enum_type(inner)
    name = getattr(inner, "name", None)
    if name == "String":
        return _region if python_name.endswith("region_code") else _optional(_string)
    if name == "Date":
        return _date
    if name == "Int":
        return _optional(_int)
    if name == "Boolean":
        return _optional(_boolean)
    raise NotCompilableError(f"an argument of type {inner}")


def _optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else parse(value)


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise FallbackError("not an integer")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise FallbackError("not a truth value")
    return value


def _enum_type(type_: GraphQLEnumType) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str) or value not in type_.values:
            raise FallbackError(f"not a {type_.name}")
        stored = type_.values[value].value
        return stored.value if isinstance(stored, Enum) else stored

    return parse


def _input_reader(type_: GraphQLInputType, filtering: Filtering) -> Callable[[Any], Any]:
    """A filter input object read into the repository's filter fields (null ones left out).

    A field the repository's filter does not have (``BlacklistFilterInput.uscc``, which the
    resolver turns into an enterprise id first) sends a request that gives it to the
    resolvers."""
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if not isinstance(inner, GraphQLInputObjectType):
        raise NotCompilableError(f"a filter of type {inner}")
    definition = (inner.extensions or {}).get(DEFINITION)
    if definition is None:
        raise NotCompilableError(f"{inner.name} is not declared")
    fields: dict[str, tuple[str, Callable[[Any], Any]]] = {}
    for item in definition.fields:
        key = item.graphql_name or to_camel_case(item.python_name)
        fields[key] = (item.python_name, _reader(inner.fields[key].type, item.python_name))

    def parse(value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict) or not set(value) <= set(fields):
            raise FallbackError("a filter the compiled path does not know")
        parsed: dict[str, Any] = {}
        for key, item in value.items():
            python_name, read = fields[key]
            found = read(item)
            if found is None:
                continue
            if python_name not in filtering.names:
                raise FallbackError(f"{inner.name}.{key} needs the resolvers")
            parsed[python_name] = found
        return parsed

    return parse


def _enterprise_order(value: Any) -> tuple[tuple[str, ...], bool]:
    """``EnterpriseSort`` as the request gives it (``_MISSING``: the default): SORT_KEYS of
    the repository. Another value (null included) is the resolvers' to refuse."""
    if value is _MISSING:
        order = EnterpriseSort.NEWEST
    elif isinstance(value, str) and value in EnterpriseSort.__members__:
        order = EnterpriseSort[value]
    else:
        raise FallbackError("not an EnterpriseSort")
    keys, descending = SORT_KEYS[order]
    return tuple(str(key.key) for key in keys), descending


def _merged(first: FieldNode, second: FieldNode) -> FieldNode:
    """One field of two selections of the same response key: their sub-selections together."""
    if first.selection_set is None or second.selection_set is None:
        return first
    selections = (*first.selection_set.selections, *second.selection_set.selections)
    return FieldNode(
        alias=first.alias,
        name=first.name,
        arguments=first.arguments,
        directives=(),
        selection_set=SelectionSetNode(selections=selections),
        loc=first.loc,
    )


def shape_variables(document: DocumentNode, operation: OperationDefinitionNode) -> tuple[str, ...]:
    """The variables whose values decide the statement's shape, not only its parameters: the
    conditions of ``@include`` and ``@skip``, and a list's ``order``. A plan compiles once for
    each combination of their values that requests bring (``Plan``)."""
    names: set[str] = set()

    def walk(selection_set: SelectionSetNode | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            for directive in selection.directives or ():
                for argument in directive.arguments or ():
                    names.update(_variables_in(argument.value))
            if isinstance(selection, FieldNode):
                for argument in selection.arguments or ():
                    if argument.name.value == "order":
                        names.update(_variables_in(argument.value))
            walk(getattr(selection, "selection_set", None))

    walk(operation.selection_set)
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            walk(definition.selection_set)
    return tuple(sorted(names))


def defaults_of(operation: OperationDefinitionNode) -> dict[str, ValueNode]:
    """The default values the operation declares for its variables."""
    return {
        d.variable.name.value: d.default_value
        for d in operation.variable_definitions or ()
        if d.default_value is not None
    }


def shape_of(
    names: tuple[str, ...], variables: Mapping[str, Any], defaults: Mapping[str, ValueNode]
) -> tuple[Any, ...]:
    """The values of ``names`` (``shape_variables``) in a request: a plan's key for the
    operation it compiled for them. A value that cannot decide a shape (a list, an object) is
    the resolvers' to refuse."""
    values = tuple(_raw(VariableNode(name=NameNode(value=n)), variables, defaults) for n in names)
    if not all(v is _MISSING or v is None or isinstance(v, bool | str) for v in values):
        raise FallbackError("a variable of the shape that is neither a boolean nor a name")
    return values


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
    boolean: bool = False
    """A GraphQL ``Boolean``: a database without truth values (SQLite) stores 0 or 1."""


@dataclass(frozen=True, slots=True)
class Computed:
    relation: Relation
    name: str
    boolean: bool = False
    """A GraphQL ``Boolean`` (``Column.boolean``)."""


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
class Conn:
    relation: Relation
    parent: str | None
    first: Input
    after: Input | None
    filter: Input | None
    """The repository's filter fields the arguments set (``Filtering``), if any."""
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


@dataclass(frozen=True, slots=True)
class GlobalId:
    """A ``node(id:)`` argument: the type it names decides the statement (``signature``)."""

    type_name: str
    pk: int


@dataclass(frozen=True, slots=True)
class EntitiesRoot:
    """``_entities`` (and ``nodes(ids:)``): each representation's (each ID's) object, of each
    type it may name, by the type's key (``keys``: its column, ``id`` or the natural key)."""

    candidates: Mapping[str, Obj]
    keys: Mapping[str, str]
    input: Input


@dataclass(frozen=True, slots=True)
class NodeRoot:
    """``node(id:)``: the object of each type the ID may name."""

    candidates: Mapping[str, Obj]
    input: Input


Out = Const | NodeId | Column | Computed | Link | Listing | Conn


@dataclass(frozen=True, slots=True)
class Leaf:
    """A field of a search's answer (``schema.search.types``) holding a value, or a list of
    values, of a scalar or enum type: the attribute ``name``, as its type serializes it."""

    name: str
    serialize: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Plain:
    """The selection of an object of a search's answer, whose fields are the attributes of
    the object that ``schema.search.queries`` builds: (key, ``Const`` | ``Leaf`` | ``Nested``
    | ``Hit``)."""

    fields: list[tuple[str, Any]]


@dataclass(frozen=True, slots=True)
class Nested:
    """A field holding an object, or a list of objects, of the search's answer."""

    name: str
    selection: Plain


@dataclass(frozen=True, slots=True)
class Hit:
    """A field holding a hit's record (``SearchEdge.node``) or the list of them (``nodes``):
    the ``index``-th of the root's ``hits``, built by the statement."""

    name: str
    index: int


@dataclass(frozen=True, slots=True)
class SearchRoot:
    """A search field: the search backend answers ``query``, ``filter``, ``first`` and
    ``after``; the statement builds each object of ``hits`` for the hits' ids (``ids``, a
    value the search gives), in order, and the rows named by the facets' codes (``codes``, by
    facet, of ``names``' relations); ``selection`` picks the rest from the search's answer."""

    search: Search
    field_name: str
    query: Input
    filter: Input
    first: Input
    after: Input
    selection: Plain
    hits: list[Obj]
    ids: Input
    names: Mapping[str, tuple[Obj, Input]]
    with_facets: bool


RootOut = Root | NodeRoot | EntitiesRoot | Conn | SearchRoot


@dataclass
class Operation:
    roots: list[tuple[str, RootOut]]
    inputs: list[Input]
    defaults: dict[str, ValueNode] = field(default_factory=dict)
    first_variables: frozenset[str] = frozenset()


class Compiler:
    """Compiles an operation for the values its shape variables have in a request (``shape``:
    ``shape_variables`` by name; the others are the statement's parameters)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        shape: Mapping[str, Any] | None = None,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.shape = shape or {}
        self.defaults = defaults_of(operation)
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.inputs: list[Input] = []
        self.first_variables: set[str] = set()
        self.firsts: dict[str, FieldNode] = {}

    def compile(self) -> Operation:
        if self.operation.operation is not OperationType.QUERY:
            raise NotCompilableError("only queries are compiled")
        if self.operation.directives:
            raise NotCompilableError("directives on the operation")
        query = self.schema.query_type
        assert query is not None
        roots: list[tuple[str, RootOut]] = []
        # The first field of each response key, before fields of one key are merged: what
        # Strawberry's ``selected_fields[0]`` is to a resolver (``search``).
        self.firsts = {}
        for field_node in self._fields(self.operation.selection_set, query, set()):
            self.firsts.setdefault(_key_of(field_node), field_node)
        for key, node in self.collect(self.operation.selection_set, query):
            roots.append((key, self.root(node, query)))
        return Operation(roots, self.inputs, self.defaults, frozenset(self.first_variables))

    # -- selections -------------------------------------------------------------------------

    def collect(
        self, selection_set: SelectionSetNode, parent: GraphQLObjectType
    ) -> list[tuple[str, FieldNode]]:
        """The fields of a selection set, with fragments of the same type flattened in, and
        the fields of one response key merged into one, as graphql-core's execution merges
        them (validation has made sure they are the same field with the same arguments)."""
        found: dict[str, FieldNode] = {}
        for node in self._fields(selection_set, parent, set()):
            key = _key_of(node)
            seen = found.get(key)
            found[key] = node if seen is None else _merged(seen, node)
        return list(found.items())

    def _fields(
        self, selection_set: SelectionSetNode, parent: GraphQLObjectType, seen: set[str]
    ) -> Iterator[FieldNode]:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, parent):
                    yield from self._fields(selection.selection_set, parent, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    raise NotCompilableError("a fragment spread twice or unknown")
                if self._applies(fragment.type_condition.name.value, parent):
                    yield from self._fields(fragment.selection_set, parent, seen | {name})

    def _included(self, selection: SelectionNode) -> bool:
        """``@skip`` and ``@include``, decided by the document or by the shape's values, as
        graphql-core's execution decides them; any other directive is the resolvers'."""
        included = True
        for directive in selection.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                raise NotCompilableError(f"the directive @{name}")
            condition = next(a.value for a in directive.arguments or () if a.name.value == "if")
            value = _raw(condition, self.shape, self.defaults)
            if not isinstance(value, bool):
                raise FallbackError(f"@{name} without a boolean")
            included = included and value is (name == "include")
        return included

    def _applies(self, condition: str, parent: GraphQLObjectType) -> bool:
        """Whether a fragment on ``condition`` applies to an object of ``parent``: its own
        type, an interface it implements or a union holding it. (A fragment on another object
        type is one of the branches of an abstract selection, such as ``node``'s.)"""
        if condition == parent.name:
            return True
        found = self.schema.get_type(condition)
        if isinstance(found, GraphQLInterfaceType):
            return any(i.name == condition for i in parent.interfaces)
        if isinstance(found, GraphQLUnionType):
            return any(t.name == parent.name for t in found.types)
        return False

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

    def _filter(
        self, definition: GraphQLField, arguments: Mapping[str, ValueNode], relation: Relation
    ) -> Input | None:
        """A connection's arguments other than paging and order, read into one value: the
        fields of the relation's repository filter they set (``Filtering``)."""
        given = {k: v for k, v in arguments.items() if k not in ("first", "after", "order")}
        if not given:
            return None
        filtering = relation.filter
        if filtering is None:
            raise NotCompilableError(f"arguments of a list of {relation.type_name}")
        readers: dict[str, Callable[[Any], Any]] = {}
        for name in given:
            argument = definition.args[name]
            if name == "filter":
                readers[name] = (
                    _enterprise_filter
                    if relation.type_name == "Enterprise"
                    else _input_reader(argument.type, filtering)
                )
                continue
            strawberry_argument = (argument.extensions or {}).get(DEFINITION)
            python_name = getattr(strawberry_argument, "python_name", None)
            if python_name not in filtering.names:
                raise NotCompilableError(f"the argument {name} of {relation.type_name}")
            read = _reader(argument.type, python_name)
            readers[name] = _setting(python_name, read)

        def parse(value: Any) -> dict[str, Any]:
            parsed: dict[str, Any] = {}
            for name, item in (value or {}).items():
                parsed.update(readers[name](item))
            return parsed

        node = ObjectValueNode(
            fields=tuple(
                ObjectFieldNode(name=NameNode(value=name), value=value)
                for name, value in given.items()
            )
        )
        return self._input(node, parse)

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

    def root(self, node: FieldNode, query: GraphQLObjectType) -> RootOut:
        name = node.name.value
        if name in SEARCHES:
            return self.search(node, query)
        if name == "node":
            return self.node(node, query)
        if name == "_entities":
            return self.entities(node)
        if name == "nodes":
            return self.nodes(node, query)
        lookup = LOOKUPS.get(name)
        if lookup is not None:
            self._check_access(query, name)
            arguments = self._arguments(node, {lookup.argument})
            target = self.object(node, self._object_type(query, node))
            if target.relation.type_name != lookup.target:
                raise NotCompilableError(f"Query.{name}")
            parse = _key(lookup.parse)
            return Root(target, lookup.column, self._input(arguments.get(lookup.argument), parse))
        listed = LISTS.get(name)
        if listed is None:
            raise NotCompilableError(f"Query.{name}")
        self._check_access(query, name)
        relation = RELATIONS[listed]
        keys: tuple[str, ...] = ()
        descending = True
        if name == "enterprises":
            order = _arguments_of(node).get("order")
            given = _MISSING if order is None else _raw(order, self.shape, self.defaults)
            keys, descending = _enterprise_order(given)
        conn = self.connection(
            node, self._object_type(query, node), relation, None, query.fields[name], keys
        )
        return Conn(
            relation,
            None,
            conn.first,
            conn.after,
            conn.filter,
            conn.fields,
            keys,
            descending,
        )

    def search(self, node: FieldNode, query: GraphQLObjectType) -> SearchRoot:
        """A search field: its arguments go to the search backend as the resolver's would
        (read at request time, ``schema.compiled.search``), its hits' records and its facets'
        names are the statement's, the rest is read from the search's answer."""
        name = node.name.value
        self._check_access(query, name)
        arguments = self._arguments(node, {"query", "filter", "first", "after"})
        self.first_variables.update(_variables_in(arguments.get("first")))
        search = SEARCHES[name]
        type_ = self._object_type(query, node)
        hits: list[Obj] = []
        assert node.selection_set is not None
        selection = self.plain(node, type_, search, hits)
        if not hits:  # the resolvers drop the hits the caller may not see, selected or not
            hits.append(Obj(RELATIONS[search.target], []))
        # Whether the search counts facets, and names their values, is decided as the resolver
        # decides it: by the names in the first field of the key, whatever their directives.
        first = self.firsts.get(_key_of(node), node).selection_set
        names = {
            facet: (
                Obj(RELATIONS[target], [("name", Column("name", datetime=False))]),
                self._input(None, _given),
            )
            for facet, target in FACET_NAMES.items()
            if _mentions(first, ("facets", facet, "name"), self.fragments)
        }
        return SearchRoot(
            search,
            name,
            Input(-1, arguments.get("query"), _string),
            Input(-1, arguments.get("filter"), _given),
            Input(-1, arguments.get("first"), _search_first),
            Input(-1, arguments.get("after"), _optional(_string)),
            selection,
            hits,
            self._input(None, _given),
            names,
            _mentions(first, ("facets",), self.fragments),
        )

    def plain(
        self, node: FieldNode, type_: GraphQLObjectType, search: Search, hits: list[Obj]
    ) -> Plain:
        """The selection of an object of a search's answer: plain attributes (no resolver)
        of the objects ``schema.search.queries`` builds, and the hits' records."""
        if node.selection_set is None:
            raise NotCompilableError(f"type {type_.name} without a selection")
        fields: list[tuple[str, Any]] = []
        for key, child in self.collect(node.selection_set, type_):
            name = child.name.value
            if name == "__typename":
                fields.append((key, Const(type_.name)))
                continue
            definition = self._check_access(type_, name)
            if definition.base_resolver is not None:
                raise NotCompilableError(f"{type_.name}.{name}")
            self._arguments(child, set())
            named = get_named_type(type_.fields[name].type)
            python_name = definition.python_name
            if isinstance(named, GraphQLObjectType):
                if named.name == search.target:
                    fields.append((key, Hit(python_name, len(hits))))
                    hits.append(self.object(child, named))
                else:
                    inner = self.plain(child, named, search, hits)
                    fields.append((key, Nested(python_name, inner)))
            elif isinstance(named, GraphQLScalarType | GraphQLEnumType):
                fields.append((key, Leaf(python_name, named.serialize)))
            else:
                raise NotCompilableError(f"{type_.name}.{name}")
        return Plain(fields)

    def node(self, node: FieldNode, query: GraphQLObjectType) -> NodeRoot:
        """``node(id:)``: the object the ID names, for every type it may name that has a SQL
        form and that every caller may fetch (``schema.node.fetches``); an ID of another type
        sends the request to the resolvers."""
        self._check_access(query, "node")
        arguments = self._arguments(node, {"id"})
        candidates = self._fetchable(node)
        known = frozenset(candidates)

        def parse(value: Any) -> GlobalId:
            type_name, pk = decode_id(_string(value))
            if type_name not in known:
                raise FallbackError(f"node(id:) of a {type_name}")
            return GlobalId(type_name, pk)

        return NodeRoot(candidates, self._input(arguments.get("id"), parse))

    def nodes(self, node: FieldNode, query: GraphQLObjectType) -> EntitiesRoot:
        """``nodes(ids:)``: each ID's object or null, in order, as ``node(id:)`` finds one."""
        self._check_access(query, "nodes")
        arguments = self._arguments(node, {"ids"})
        candidates = self._fetchable(node)
        known = frozenset(candidates)

        def parse(value: Any) -> list[tuple[str, Any]]:
            if not isinstance(value, list) or len(value) > MAX_NODES:
                raise FallbackError("not a list of at most MAX_NODES IDs")
            found = [decode_id(_string(item), "ids") for item in value]
            if not all(type_name in known for type_name, _ in found):
                raise FallbackError("nodes(ids:) of a type without a SQL form")
            return found

        keys = dict.fromkeys(candidates, "id")
        return EntitiesRoot(candidates, keys, self._input(arguments.get("ids"), parse))

    def _fetchable(self, node: FieldNode) -> dict[str, Obj]:
        """The object of ``node``'s selection for each type an ID may name that has a SQL form
        and that every caller may fetch (``schema.node.fetchable``)."""
        candidates: dict[str, Obj] = {}
        for type_name, access in fetchable().items():
            type_ = self.schema.get_type(type_name)
            if access != PUBLIC or type_name not in RELATIONS or type_ is None:
                continue
            assert isinstance(type_, GraphQLObjectType)
            candidates[type_name] = self.object(node, type_)
        return candidates

    def entities(self, node: FieldNode) -> EntitiesRoot:
        """A federation subgraph's ``_entities(representations:)``: each representation's
        object, looked up by its type's key (``schema.federation.plan``), in order. Only
        types with a SQL form that every caller may fetch; another sends the request to the
        resolvers."""
        arguments = self._arguments(node, {"representations"})
        candidates = self._fetchable(node)
        keys = {name: key_of(name) for name in candidates}

        def parse(value: Any) -> list[tuple[str, Any]]:
            if not isinstance(value, list):
                raise FallbackError("representations are not a list")
            return [_representation(item, keys) for item in value]

        return EntitiesRoot(candidates, keys, self._input(arguments.get("representations"), parse))

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
        boolean = get_named_type(parent.fields[name].type) is GraphQLBoolean
        if name in relation.computed:
            self._arguments(node, set())
            return Computed(relation, name, boolean)
        if name in relation.objects:
            self._arguments(node, set())
            one = relation.objects[name]
            target = self.object(node, self._object_type(parent, node))
            if target.relation.type_name != one.target:
                raise NotCompilableError(f"{parent.name}.{name}")
            return Link(one.column, one.key, target)
        if name in relation.lists:
            self._arguments(node, set())
            listed = relation.lists[name]
            target = self.object(node, self._object_type(parent, node))
            if target.relation.type_name != listed.target:
                raise NotCompilableError(f"{parent.name}.{name}")
            return Listing(listed, target)
        if name in relation.connections:
            many = relation.connections[name]
            return self.connection(
                node,
                self._object_type(parent, node),
                RELATIONS[many.target],
                many.parent,
                parent.fields[name],
            )
        column = relation.column(definition.python_name)
        if definition.base_resolver is None and column is not None and not node.arguments:
            sql_type = relation.model.__table__.columns[column].type
            stored = getattr(sql_type, "impl", sql_type)
            return Column(column, datetime=isinstance(stored, DateTime), boolean=boolean)
        raise NotCompilableError(f"{parent.name}.{name}")

    def connection(
        self,
        node: FieldNode,
        type_: GraphQLObjectType,
        relation: Relation,
        parent: str | None,
        definition: GraphQLField,
        keys: tuple[str, ...] = (),
    ) -> Conn:
        """A connection of ``relation``'s rows: ``first`` and ``after`` page it, its other
        arguments set the repository's filter fields (``Filtering``)."""
        arguments = _arguments_of(node)
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
            after = self._input(
                after_node, _after(tuple(cursor_kind(relation, key) for key in sort))
            )
        filter = self._filter(definition, arguments, relation)
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
        return Conn(relation, parent, first, after, filter, fields)

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
        """Cursors are rendered in SQL for sort keys of the kinds ``cursor_kind`` knows."""
        if not all(cursor_kind(relation, key) for key in sort):
            raise NotCompilableError(f"cursors of {relation.type_name}")


def cursor_kind(relation: Relation, key: str) -> str | None:
    """How a sort key's value is written in a cursor (``pagination.cursor_kind``)."""
    return pagination.cursor_kind(relation.model.__table__.columns[key])


def _representation(value: Any, keys: Mapping[str, str]) -> tuple[str, Any]:
    """A representation as (type, key value), the value None when no row can match: an ID of
    another type, as ``schema.federation.entities`` answers null for it."""
    if not isinstance(value, dict):
        raise FallbackError("a representation is not an object")
    type_name = value.get("__typename")
    key = keys.get(type_name) if isinstance(type_name, str) else None
    if key is None or not isinstance(value.get(key), str):
        raise FallbackError(f"a representation of {type_name!r}")
    assert isinstance(type_name, str)
    if key != ID_KEY:
        return type_name, value[key]
    named, pk = decode_id(value[key], "representations")
    return type_name, pk if named == type_name else None


def _setting(name: str, read: Callable[[Any], Any]) -> Callable[[Any], dict[str, Any]]:
    """An argument read as the one filter field ``name`` it sets (none when it is null)."""

    def parse(value: Any) -> dict[str, Any]:
        found = read(value)
        return {} if found is None else {name: found}

    return parse


def _key(parse: Callable[[str], str]) -> Callable[[Any], str]:
    return lambda value: parse(_string(value))


def _arguments_of(node: FieldNode) -> dict[str, ValueNode]:
    return {a.name.value: a.value for a in node.arguments or ()}
