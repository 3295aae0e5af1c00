"""Parsing and validating documents, with a cache bounded by the memory it holds.

A parsed document costs far more than its text: graphql-core keeps every token, each with its
node and location (about 560 bytes a token), so 4 KB of ``{ a a a ... }`` holds about 1.1 MB,
while a long string literal holds its text twice (the query and the literal's value). A cache
bounded by its number of entries is therefore bounded by nothing: 1,024 entries of 10 MB
literals held 22 GB. ``DocumentCache`` weighs each document by ``weight`` instead, and the
process keeps at most ``CACHE_BYTES`` of them; a document heavier than that is parsed and
validated for its request and not kept.

Parsing also settles which operation runs (a request error otherwise, coded
``OPERATION_RESOLUTION_FAILURE``); validation gives every error it finds the code
``GRAPHQL_VALIDATION_FAILED`` unless its rule chose one (a literal of the wrong type is the
caller's ``BAD_USER_INPUT``), and then coerces the request's variables, whose failures are
``BAD_USER_INPUT``: the caller's data.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.validation import (
    ASTValidationRule,
    KnownDirectivesRule,
    UniqueDirectivesPerLocationRule,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

TOKEN_BYTES = 600
"""What one token of a parsed document holds, rounded up from what tracemalloc measured."""

CACHE_BYTES = 32 * 2**20
"""The weight of all documents this process keeps: every tier's and subgraph's together."""

BAD_USER_INPUT = "BAD_USER_INPUT"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"

DIRECTIVE_RULES: tuple[type[ASTValidationRule], ...] = (
    KnownDirectivesRule,
    UniqueDirectivesPerLocationRule,
)
"""Checked before the other rules: a document whose directives are unknown or repeated gets
one error, not one per use (graphql-cop's "directive overloading": ``@aa@aa@aa...``)."""

Rules = tuple[type[ASTValidationRule], ...]


def weight(query: str, document: DocumentNode) -> int:
    """Roughly the bytes that ``document`` and its text hold while cached."""
    tokens = 0
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        tokens += 1
        token = token.next
    return 2 * len(query) + TOKEN_BYTES * tokens


@dataclass(slots=True)
class _Cached:
    document: DocumentNode
    weight: int
    # The validation errors of the document per schema and rule set.
    validated: dict[tuple[GraphQLSchema, Rules], list[GraphQLError]] = field(default_factory=dict)


def _weight_of(entry: _Cached) -> int:
    return entry.weight


class DocumentCache:
    """Documents by their text and parse options, least recently used first out."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.entries: LRUCache[tuple[str, Hashable], _Cached] = LRUCache(
            maxsize=max_bytes, getsizeof=_weight_of
        )

    @property
    def bytes(self) -> int:
        """The weight of the documents kept now."""
        return int(self.entries.currsize)

    @property
    def max_bytes(self) -> int:
        return int(self.entries.maxsize)

    def parse(self, query: str, options: Mapping[str, Any]) -> DocumentNode:
        """The document of ``query``; raises GraphQLSyntaxError, which is never cached."""
        key = (query, tuple(sorted(options.items())))
        found = self.entries.get(key)
        if found is not None:
            return found.document
        document = parse(query, **options)
        cached = _Cached(document, weight(query, document))
        if cached.weight <= self.max_bytes:
            self.entries[key] = cached
        return document

    def validate(
        self,
        schema: GraphQLSchema,
        query: str,
        options: Mapping[str, Any],
        document: DocumentNode,
        rules: Rules,
    ) -> list[GraphQLError]:
        """The validation errors of ``document``, the text of ``query``, against ``schema``.

        The list is the cache's own: copy it before changing it.
        """
        found = self.entries.get((query, tuple(sorted(options.items()))))
        if found is None or found.document is not document:
            return _validate(schema, document, rules)
        errors = found.validated.get((schema, rules))
        if errors is None:
            errors = found.validated[(schema, rules)] = _validate(schema, document, rules)
        return errors


DOCUMENTS = DocumentCache()
"""The process's documents; see ``CACHE_BYTES``."""


def _validate(schema: GraphQLSchema, document: DocumentNode, rules: Rules) -> list[GraphQLError]:
    # One error of the directives, or Strawberry's own validation: the rules given plus its
    # @oneOf and Maybe rules.
    errors = validate(schema, document, DIRECTIVE_RULES)[:1] or validate_document(
        schema, document, rules
    )
    for error in errors:
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": GRAPHQL_VALIDATION_FAILED}
    return errors


def chosen_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    """The operation a request runs: the one named, or the only one; GraphQLError otherwise.

    graphql-core refuses a document of several operations without a name, but Strawberry
    would pick the first for it; this refuses before Strawberry can.
    """
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        for operation in operations:
            if operation.name is not None and operation.name.value == name:
                return operation
        message = f"The document has no operation named '{name}'."
    elif len(operations) == 1:
        return operations[0]
    elif operations:
        message = (
            f"The document has {len(operations)} operations: "
            "name the one to run with operationName."
        )
    else:
        message = "The document has no operation to run."
    raise GraphQLError(message, extensions={"code": OPERATION_RESOLUTION_FAILURE})


def coerce_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: dict[str, Any] | None
) -> list[GraphQLError]:
    """The errors of the request's variables against the operation's definitions.

    graphql-core coerces them again when it executes, and reports the same errors without a
    code; coercing here first lets them carry theirs.
    """
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), variables or {}, max_errors=50
    )
    if not isinstance(coerced, list):
        return []
    for error in coerced:
        error.extensions = {**(error.extensions or {}), "code": BAD_USER_INPUT}
    return coerced


class DocumentParsing(SchemaExtension):
    """Parses through ``DOCUMENTS`` and settles which operation the request runs."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        assert context.query is not None  # Strawberry refuses a request without one first
        document = DOCUMENTS.parse(context.query, context.parse_options)
        context.graphql_document = document
        # Strawberry's ``operation_name`` falls back to the first operation's; the name the
        # request gave is kept only here.
        chosen_operation(document, context._provided_operation_name)
        yield


class DocumentValidation(SchemaExtension):
    """Validates through ``DOCUMENTS``, then coerces the request's variables.

    Listed after the extensions that change the rules (``InputRules``) and before
    ``QueryLimits``, which replaces these errors with its own when a limit is exceeded.
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        assert context.query is not None and document is not None
        schema = context.schema._schema
        errors = list(
            DOCUMENTS.validate(
                schema,
                context.query,
                context.parse_options,
                document,
                tuple(context.validation_rules),
            )
        )
        if not errors:
            operation = chosen_operation(document, context.operation_name)
            errors = coerce_variables(schema, operation, context.variables)
        context.pre_execution_errors = errors
        yield
