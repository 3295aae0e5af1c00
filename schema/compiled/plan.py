"""Plans: a compiled operation of one tier, ready to bind a request's variables and run.

``CompiledQueries`` keeps a plan per document and operation name: parsed, validated against
the tier's schema and measured against its limits once, then compiled, or remembered as not
compilable. A plan binds each request's variables to the statement's parameters; what it
cannot bind, or any request over the tier's limits, goes to the resolvers instead. The plans
are kept by their weight in memory, like the resolvers' documents (schema.documents).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
    validate,
)

from hub.kit.time import utcnow
from hub.limits import TierLimits
from schema.compiled.compiler import (
    Compiler,
    FallbackError,
    NotCompilableError,
    Operation,
    defaults_of,
    shape_of,
    shape_variables,
)
from schema.compiled.dialects import POSTGRESQL_DIALECT, Getter, SqlDialect, request_values
from schema.compiled.render import Renderer, signature
from schema.documents import weight
from schema.limits import check, measure, operation_of

log = logging.getLogger("hub.compiled")

PLAN_CACHE_BYTES = 16 * 2**20
"""The weight of the plans one tier keeps (see ``Plan.weight``)."""

REFUSAL_CACHE_BYTES = 4 * 2**20
"""The weight of the texts one tier remembers as not compiled."""

MEASURED_VALUES = 64
"""How many sets of ``first`` values a plan remembers the measure of."""

_ABSENT = object()


Shape = tuple[Any, ...]


class Plan:
    """A document's operation, compiled once for each combination of the values of its shape
    variables (``shape_variables``: ``@include``/``@skip`` conditions, an ``order``) that
    requests bring; most documents have none, and one operation."""

    def __init__(
        self,
        *,
        query: str,
        sees_unpublished: bool,
        limits: TierLimits,
        schema: Any,
        document: DocumentNode,
        node: OperationDefinitionNode,
        shape_variables: tuple[str, ...],
        dialect: SqlDialect = POSTGRESQL_DIALECT,
    ) -> None:
        self.dialect = dialect
        self.query = query
        self.sees_unpublished = sees_unpublished
        self.limits = limits
        self.schema = schema
        self.document = document
        self.node = node
        self.shape_variables = shape_variables
        self.defaults = defaults_of(node)
        self.operations: dict[tuple[Any, ...], Operation | str] = {}
        """By the shape variables' values: the operation, or why it is not compiled."""
        self.statements: dict[tuple[Shape, Shape], tuple[str, list[Getter]] | str] = {}
        """By the shape variables' values and the signature of the parameters' values: the
        statement and its parameters, or why the database cannot run it."""
        self.measured: LRUCache[tuple[Shape, Shape], bool] = LRUCache(maxsize=MEASURED_VALUES)
        """Over the limits or not, by the shape and the ``first`` values (``_over_limits``)."""
        # With its compiled operation and statements, a plan measured (tracemalloc, on the
        # tests' documents) up to about twice its document's weight.
        self.weight = 2 * weight(query, document)

    def operation(self, variables: Mapping[str, Any]) -> Operation:
        """The operation compiled for the request's shape; NotCompilableError if there is
        none (logged once per shape)."""
        return self._compiled(variables)[1]

    def _compiled(self, variables: Mapping[str, Any]) -> tuple[tuple[Any, ...], Operation]:
        key = shape_of(self.shape_variables, variables, self.defaults)
        found = self.operations.get(key)
        if found is None:
            found = self.operations[key] = self._compile(key, variables)
        if isinstance(found, str):
            raise NotCompilableError(found)
        return key, found

    def _compile(self, key: tuple[Any, ...], variables: Mapping[str, Any]) -> Operation | str:
        shape = dict(zip(self.shape_variables, key, strict=True))
        try:
            operation = Compiler(self.schema, self.document, self.node, shape).compile()
            if not operation.first_variables and self._over_limits(variables, key, operation):
                raise NotCompilableError("over the tier's limits")
        except NotCompilableError as error:
            if self.shape_variables:  # a plan without any is refused whole (``_make``)
                about = {"reason": str(error), **_about(self.query, self.node)}
                log.info("not compiled, the resolvers answer: %s", error, extra=about)
            return str(error)
        return operation

    def admitted(self, variables: Mapping[str, Any]) -> tuple[Shape, Operation]:
        """The request's shape and compiled operation, within the tier's limits;
        FallbackError: the resolvers answer it."""
        try:
            key, operation = self._compiled(variables)
        except NotCompilableError as error:
            raise FallbackError(str(error)) from None
        if operation.first_variables and self._over_limits(variables, key, operation):
            raise FallbackError("over the tier's limits")
        return key, operation

    def bind(
        self,
        variables: Mapping[str, Any],
        given: Mapping[int, Any] | None = None,
        moment: datetime | None = None,
    ) -> tuple[str, list[Any]]:
        """The statement and parameters of a request; FallbackError: the resolvers answer it.

        ``given``: values of inputs that are not the request's (a search's hits, by the
        input's index); ``moment``: the request's instant where the statement binds it (SQLite),
        by default now."""
        key, operation = self.admitted(variables)
        values = [i.value(variables, operation.defaults) for i in operation.inputs]
        for index, value in (given or {}).items():
            values[index] = value
        shape = tuple(signature(v) for v in values)
        found = self.statements.get((key, shape))
        if found is None:
            # The values of this request: only the document's own (constant) ones are
            # written into the statement, so it serves every request of the shape.
            renderer = Renderer(
                operation,
                shape,
                values,
                sees_unpublished=self.sees_unpublished,
                dialect=self.dialect,
            )
            sql = renderer.render()
            refused = self.dialect.refuses(sql)
            if refused is not None:
                about = {"reason": refused, **_about(self.query, self.node)}
                log.info("not compiled, the resolvers answer: %s", refused, extra=about)
            found = self.statements[key, shape] = refused or (sql, renderer.getters)
        if isinstance(found, str):
            raise FallbackError(found)
        sql, getters = found
        # The request's instant, where the statement reads it (SQLite: ``Renderer.instant``).
        bound = request_values(values, moment or utcnow())
        adapt = self.dialect.adapt
        return sql, [adapt(getter(bound)) for getter in getters]

    def _over_limits(
        self, variables: Mapping[str, Any], shape: Shape, operation: Operation
    ) -> bool:
        """Whether the request takes the operation over the tier's limits.

        Only the shape (``@include``/``@skip``) and the ``first`` values change the measure,
        and requests send the same few again and again (a page size, the default): each is
        measured once, the most recent ones kept. Measuring the portal's credit file took
        0.2 ms, ten times the rest of its binding. Anything but a whole number, null or
        nothing as a ``first`` is measured every time.
        """
        firsts = tuple(variables.get(name, _ABSENT) for name in sorted(operation.first_variables))
        cacheable = all(value is None or value is _ABSENT or type(value) is int for value in firsts)
        if cacheable and (shape, firsts) in self.measured:
            return self.measured[shape, firsts]
        over = bool(
            check(self.limits, measure(self.schema, self.document, self.node, variables), self.node)
        )
        if cacheable:
            self.measured[shape, firsts] = over
        return over


class CompiledQueries:
    """The plans of one tier's schema, by document text and operation name."""

    def __init__(
        self,
        schema: Any,
        limits: TierLimits,
        *,
        sees_unpublished: bool,
        dialect: SqlDialect = POSTGRESQL_DIALECT,
    ) -> None:
        self.dialect = dialect
        self.schema = schema
        self.limits = limits
        self.sees_unpublished = sees_unpublished
        self.plans: LRUCache[tuple[str, str | None], Plan] = LRUCache(
            maxsize=PLAN_CACHE_BYTES, getsizeof=_weight_of
        )
        # A document not compiled is remembered by its text alone: the weight of the key.
        self.refused: LRUCache[tuple[str, str | None], int] = LRUCache(
            maxsize=REFUSAL_CACHE_BYTES, getsizeof=int
        )

    def plan(self, query: str, operation_name: str | None) -> Plan | None:
        key = (query, operation_name)
        found = self.plans.get(key)
        if found is not None or key in self.refused:
            return found
        made = self._make(query, operation_name)
        if made is None:
            if len(query) <= self.refused.maxsize:
                self.refused[key] = len(query)
        elif made.weight <= self.plans.maxsize:
            self.plans[key] = made
        return made

    def reason(
        self,
        query: str,
        operation_name: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> str | None:
        """Why a document is not compiled for these variables (None if it is): for tests and
        for curious people."""
        try:
            self._compile(query, operation_name).operation(variables or {})
        except (NotCompilableError, FallbackError) as error:
            return str(error)
        return None

    def _make(self, query: str, operation_name: str | None) -> Plan | None:
        try:
            return self._compile(query, operation_name)
        except NotCompilableError as error:
            # Once per document while it is remembered as not compiled (``refused``).
            about = {"reason": str(error), **_about(query, operation_name)}
            log.info("not compiled, the resolvers answer: %s", error, extra=about)
            return None

    def _compile(self, query: str, operation_name: str | None) -> Plan:
        try:
            document = parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLError:
            raise NotCompilableError("does not parse") from None
        if validate(self.schema, document):
            raise NotCompilableError("does not validate")
        node = operation_of(document, operation_name)
        if node is None:
            raise NotCompilableError("no such operation")
        if node.operation is not OperationType.QUERY:
            raise NotCompilableError("only queries are compiled")
        plan = Plan(
            query=query,
            sees_unpublished=self.sees_unpublished,
            limits=self.limits,
            schema=self.schema,
            document=document,
            node=node,
            shape_variables=shape_variables(document, node),
            dialect=self.dialect,
        )
        if not plan.shape_variables:
            plan.operation({})  # compiled now: a document that is not is remembered as such
        return plan


def _about(query: str, operation: str | OperationDefinitionNode | None) -> dict[str, str | None]:
    """What a log line says of a document: its operation and a digest, not its whole text."""
    if isinstance(operation, OperationDefinitionNode):
        operation = operation.name.value if operation.name else None
    digest = hashlib.sha256(query.encode()).hexdigest()[:16]
    return {"operation": operation, "document_sha256": digest}


def _weight_of(plan: Plan) -> int:
    return plan.weight
