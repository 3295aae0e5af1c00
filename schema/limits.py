"""Per-tier limits on what one GraphQL document may ask, checked before anything executes.

Five numbers, each from the tier's ``TierLimits``:

- **tokens**: the parser stops at ``max_tokens`` lexical tokens (comments included), so an
  oversized document costs no more than that to refuse;
- **depth**: fields nested in one another on the longest path (``{ a { b { c } } }`` is 3);
- **aliases** and **directives**: how many the operation uses, each fragment counted once
  per spread, because it is executed once per spread;
- **cost**, an upper bound of the work, computed from the operation and its variables:
  every field costs 1, and a field that returns many items multiplies the cost of its
  selection: a connection by its ``first`` argument (its default, 20, when absent; values
  above the page limit count as the page limit, since the field refuses them with
  BAD_USER_INPUT anyway), any other list by ``LIST_FACTOR``. The ``edges`` and ``nodes`` of a
  connection are its ``first`` items, so they multiply nothing more. So
  ``{ enterprises(first: 10) { nodes { name } } }`` costs 1 + 10 × (1 + 1) = 21.

Introspection fields (``__schema``, ``__type``, ``__typename``) add no depth and no cost: what
they return is bounded by the schema, not by the caller. Their aliases and directives count.

A document over a limit is refused with ``extensions.code = "QUERY_TOO_COMPLEX"``, the measured
value and the limit (``cost`` and ``maxCost``, ``depth`` and ``maxDepth``, ...), and nothing
else: a document refused for its size gets no list of its other mistakes. Fragments are
measured once each, bottom-up and without recursion, so neither a fragment spread a million
times over nor a cycle of fragments (which validation reports) costs more than its text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)
from graphql.utilities import value_from_ast_untyped
from strawberry.extensions import SchemaExtension

from hub.kit.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from hub.limits import TierLimits

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"

LIST_FACTOR = 10
"""How many items a list without ``first`` counts for (failed items, a licence's history)."""

_TOO_MANY_TOKENS = "Document contains more than "
_NESTED_TOO_DEEPLY = "Document is nested too deeply"


@dataclass(frozen=True, slots=True)
class Measure:
    """What a selection set (or a whole operation) asks for."""

    depth: int = 0
    aliases: int = 0
    directives: int = 0
    cost: int = 0


NOTHING = Measure()


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None = None,
) -> Measure:
    """Measure ``operation`` of ``document``, with its variables as the request gives them."""
    inner = _Measurer(schema, document, operation, variables or {}).operation()
    directives = inner.directives + len(operation.directives or ())
    return Measure(inner.depth, inner.aliases, directives, inner.cost)


def operation_of(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation a request executes: the one named, or the only one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)


def _is_connection(named: GraphQLNamedType | None) -> bool:
    return isinstance(named, GraphQLObjectType) and "pageInfo" in named.fields


def _is_list(type_: GraphQLOutputType) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


@dataclass(frozen=True, slots=True)
class ListSize:
    """How many items a field multiplies the cost of its selection by.

    The one declaration of the rule's multipliers: ``measure`` computes with it, and the
    subgraphs publish it to routers as ``@listSize`` (``schema.federation.directives``).
    """

    assumed: int
    """The count without the slicing argument (or for a list that has none)."""
    slicing: str | None = None
    """The argument that gives the count: a connection's ``first``."""
    maximum: int | None = None
    """The most the slicing argument counts for: more is refused by the field itself."""
    sized: tuple[str, ...] = ()
    """The lists of the returned object that hold those items (a connection's ``edges`` and
    ``nodes``): they multiply nothing more."""


def list_size(definition: GraphQLField, parent: GraphQLNamedType | None) -> ListSize | None:
    """How many items ``definition``, a field of ``parent``, counts for; None: one.

    A connection counts for its ``first`` items, any other list of objects for
    ``LIST_FACTOR``; a list inside a connection is the connection's items, and a list of
    scalars has no selection to multiply.
    """
    named = get_named_type(definition.type)
    if (
        isinstance(named, GraphQLObjectType)
        and "first" in definition.args
        and _is_connection(named)
    ):
        default = definition.args["first"].default_value
        return ListSize(
            assumed=default if isinstance(default, int) else DEFAULT_PAGE_SIZE,
            slicing="first",
            maximum=MAX_PAGE_SIZE,
            sized=tuple(name for name, field in named.fields.items() if _is_list(field.type)),
        )
    if _is_list(definition.type) and not _is_connection(parent) and not is_leaf_type(named):
        return ListSize(assumed=LIST_FACTOR)
    return None


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    """Names of the fragments spread anywhere inside ``selection_set``."""
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)


class _Measurer:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.operation_node = operation
        self.variables = variables
        self.variable_defaults = {
            definition.variable.name.value: definition.default_value
            for definition in operation.variable_definitions or ()
        }
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.measured: dict[str, Measure] = {}
        self._measure_fragments()

    def operation(self) -> Measure:
        root = self.schema.get_root_type(self.operation_node.operation)
        return self.selections(self.operation_node.selection_set, root)

    def _measure_fragments(self) -> None:
        # Depth-first over the spreads with an explicit stack: each fragment is measured after
        # the fragments it spreads. A spread that closes a cycle finds its fragment unmeasured
        # and counts as nothing; NoFragmentCyclesRule reports the cycle itself.
        spreads = {name: list(_spreads(f.selection_set)) for name, f in self.fragments.items()}
        for root in self.fragments:
            if root in self.measured:
                continue
            path = [(root, iter(spreads[root]))]
            on_path = {root}
            while path:
                name, pending = path[-1]
                for spread in pending:
                    if (
                        spread in self.fragments
                        and spread not in self.measured
                        and spread not in on_path
                    ):
                        path.append((spread, iter(spreads[spread])))
                        on_path.add(spread)
                        break
                else:
                    path.pop()
                    on_path.discard(name)
                    fragment = self.fragments[name]
                    condition = self.schema.get_type(fragment.type_condition.name.value)
                    self.measured[name] = self.selections(fragment.selection_set, condition)

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> Measure:
        depth = aliases = directives = cost = 0
        for selection in selection_set.selections:
            directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                inner = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                typed = self.schema.get_type(condition.name.value) if condition else parent
                inner = self.selections(selection.selection_set, typed)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.measured.get(selection.name.value, NOTHING)
            else:  # pragma: no cover - the three kinds of selection are all there is
                continue
            depth = max(depth, inner.depth)
            aliases += inner.aliases
            directives += inner.directives
            cost += inner.cost
        return Measure(depth, aliases, directives, cost)

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        aliases = 1 if node.alias is not None else 0
        definition = (
            parent.fields.get(node.name.value)
            if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
            else None
        )
        inner = NOTHING
        if node.selection_set is not None:
            named = get_named_type(definition.type) if definition is not None else None
            inner = self.selections(node.selection_set, named)
        if node.name.value.startswith("__"):
            return Measure(0, aliases + inner.aliases, inner.directives, 0)
        factor = self.factor(node, definition, parent)
        return Measure(
            1 + inner.depth, aliases + inner.aliases, inner.directives, 1 + factor * inner.cost
        )

    def factor(
        self, node: FieldNode, definition: GraphQLField | None, parent: GraphQLNamedType | None
    ) -> int:
        if definition is None:
            return 1  # an unknown field: validation refuses the document anyway
        size = list_size(definition, parent)
        if size is None:
            return 1
        if size.slicing is None:
            return size.assumed
        return self.sliced(node, size)

    def sliced(self, node: FieldNode, size: ListSize) -> int:
        value: Any = size.assumed
        given = next((a.value for a in node.arguments or () if a.name.value == size.slicing), None)
        if isinstance(given, VariableNode):
            name = given.name.value
            if name in self.variables:
                value = self.variables[name]
            elif self.variable_defaults.get(name) is not None:
                value = value_from_ast_untyped(self.variable_defaults[name])  # type: ignore[arg-type]
        elif given is not None:
            value = value_from_ast_untyped(given)
        if value is None:
            value = size.assumed  # an explicit null means the default page
        if not isinstance(value, int) or isinstance(value, bool):
            return size.assumed  # not a number: the field refuses it before any work
        count: int = max(value, 0)
        return count if size.maximum is None else min(count, size.maximum)


def _too_complex(message: str, node: OperationDefinitionNode, **extensions: int) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": QUERY_TOO_COMPLEX, **extensions})


def check(
    limits: TierLimits, measured: Measure, node: OperationDefinitionNode
) -> list[GraphQLError]:
    """The errors of every limit that ``measured`` exceeds."""
    errors = []
    if measured.depth > limits.max_depth:
        errors.append(
            _too_complex(
                f"The query nests fields {measured.depth} deep; the limit is {limits.max_depth}.",
                node,
                depth=measured.depth,
                maxDepth=limits.max_depth,
            )
        )
    if measured.aliases > limits.max_aliases:
        errors.append(
            _too_complex(
                f"The query uses {measured.aliases} aliases; the limit is {limits.max_aliases}.",
                node,
                aliases=measured.aliases,
                maxAliases=limits.max_aliases,
            )
        )
    if measured.directives > limits.max_directives:
        errors.append(
            _too_complex(
                f"The query uses {measured.directives} directives; "
                f"the limit is {limits.max_directives}.",
                node,
                directives=measured.directives,
                maxDirectives=limits.max_directives,
            )
        )
    if measured.cost > limits.max_cost:
        errors.append(
            _too_complex(
                f"The query costs {measured.cost}; the limit is {limits.max_cost}. "
                "Ask for fewer items with `first`, or nest fewer lists.",
                node,
                cost=measured.cost,
                maxCost=limits.max_cost,
            )
        )
    return errors


class QueryLimits(SchemaExtension):
    """Enforces one tier's ``TierLimits`` on every operation, before execution.

    Must come after ``DocumentValidation`` in the schema's extensions: its ``on_validate``
    replaces the errors that validation found, which that extension sets when it runs first.
    """

    def __init__(self, limits: TierLimits) -> None:
        super().__init__()
        self.limits = limits

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.limits.max_tokens
        try:
            yield
        except GraphQLSyntaxError as error:
            # DocumentParsing parses in its own hook, so its errors come up through here.
            self._mark_parse_limit(error)
            raise

    def on_parse(self) -> Iterator[None]:
        yield
        # Without DocumentParsing, Strawberry parses in between the hooks and keeps the error.
        for error in self.execution_context.pre_execution_errors or ():
            self._mark_parse_limit(error)

    def _mark_parse_limit(self, error: GraphQLError) -> None:
        """Give the parser's own limits (tokens, nesting) the code of the other limits."""
        if not isinstance(error, GraphQLSyntaxError):
            return
        limits = self.limits
        if _TOO_MANY_TOKENS in error.message:
            error.message = (
                f"The document has more than {limits.max_tokens} tokens; "
                f"the limit is {limits.max_tokens}."
            )
            error.extensions = {"code": QUERY_TOO_COMPLEX, "maxTokens": limits.max_tokens}
        elif _NESTED_TOO_DEEPLY in error.message:
            error.message = (
                f"The document nests too deeply to be parsed; the limit is {limits.max_depth}."
            )
            error.extensions = {"code": QUERY_TOO_COMPLEX, "maxDepth": limits.max_depth}

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = None if document is None else operation_of(document, context.operation_name)
        if document is not None and operation is not None:
            measured = measure(context.schema._schema, document, operation, context.variables)
            errors = check(self.limits, measured, operation)
            if errors:
                # A new list, never the one validation returned: that may be cached.
                context.pre_execution_errors = errors
        yield
