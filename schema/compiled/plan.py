"""Plans: a compiled operation of one tier, ready to bind a request's variables and run.

``CompiledQueries`` keeps a plan per document and operation name: parsed, validated against
the tier's schema and measured against its limits once, then compiled, or remembered as not
compilable. A plan binds each request's variables to the statement's parameters; what it
cannot bind, or any request over the tier's limits, goes to the resolvers instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, parse, validate

from hub.limits import TierLimits
from schema.compiled.compiler import Compiler, FallbackError, NotCompilableError, Operation
from schema.compiled.render import Getter, Renderer, signature
from schema.limits import check, measure, operation_of

log = logging.getLogger("hub.compiled")

PLANS_PER_TIER = 1024


class Plan:
    def __init__(
        self,
        operation: Operation,
        *,
        sees_unpublished: bool,
        limits: TierLimits,
        schema: Any,
        document: DocumentNode,
        node: OperationDefinitionNode,
    ) -> None:
        self.operation = operation
        self.sees_unpublished = sees_unpublished
        self.limits = limits
        self.schema = schema
        self.document = document
        self.node = node
        self.statements: dict[tuple[Any, ...], tuple[str, list[Getter]]] = {}

    def bind(self, variables: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The statement and parameters of a request; FallbackError: the resolvers answer it."""
        operation = self.operation
        if operation.first_variables and check(
            self.limits, measure(self.schema, self.document, self.node, variables), self.node
        ):
            raise FallbackError("over the tier's limits")
        values = [i.value(variables, operation.defaults) for i in operation.inputs]
        shape = tuple(signature(v) for v in values)
        found = self.statements.get(shape)
        if found is None:
            # The values of this request: only the document's own (constant) ones are
            # written into the statement, so it serves every request of the shape.
            renderer = Renderer(operation, shape, values, sees_unpublished=self.sees_unpublished)
            found = self.statements[shape] = (renderer.render(), renderer.getters)
        sql, getters = found
        return sql, [getter(values) for getter in getters]


class CompiledQueries:
    """The plans of one tier's schema, by document text and operation name."""

    def __init__(self, schema: Any, limits: TierLimits, *, sees_unpublished: bool) -> None:
        self.schema = schema
        self.limits = limits
        self.sees_unpublished = sees_unpublished
        self.plans: dict[tuple[str, str | None], Plan | None] = {}

    def plan(self, query: str, operation_name: str | None) -> Plan | None:
        key = (query, operation_name)
        if key in self.plans:
            return self.plans[key]
        made = self._make(query, operation_name)
        if len(self.plans) >= PLANS_PER_TIER:
            del self.plans[next(iter(self.plans))]
        self.plans[key] = made
        return made

    def reason(self, query: str, operation_name: str | None = None) -> str | None:
        """Why a document is not compiled (None if it is): for tests and for curious people."""
        try:
            self._compile(query, operation_name)
        except NotCompilableError as error:
            return str(error)
        return None

    def _make(self, query: str, operation_name: str | None) -> Plan | None:
        try:
            return self._compile(query, operation_name)
        except NotCompilableError as error:
            log.debug("not compiled: %s", error)
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
        operation = Compiler(self.schema, document, node).compile()
        if not operation.first_variables and check(
            self.limits, measure(self.schema, document, node), node
        ):
            raise NotCompilableError("over the tier's limits")
        return Plan(
            operation,
            sees_unpublished=self.sees_unpublished,
            limits=self.limits,
            schema=self.schema,
            document=document,
            node=node,
        )
