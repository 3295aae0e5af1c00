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
from typing import Any

from cachetools import LRUCache
from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, parse, validate

from hub.limits import TierLimits
from schema.compiled.compiler import Compiler, FallbackError, NotCompilableError, Operation
from schema.compiled.render import Getter, Renderer, signature
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


class Plan:
    def __init__(
        self,
        operation: Operation,
        *,
        query: str,
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
        # Over the limits or not, by the values of the ``first`` variables (``_over_limits``).
        self.measured: LRUCache[tuple[Any, ...], bool] = LRUCache(maxsize=MEASURED_VALUES)
        # With its compiled operation and statements, a plan measured (tracemalloc, on the
        # tests' documents) up to about twice its document's weight.
        self.weight = 2 * weight(query, document)

    def bind(self, variables: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The statement and parameters of a request; FallbackError: the resolvers answer it."""
        operation = self.operation
        if operation.first_variables and self._over_limits(variables):
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

    def _over_limits(self, variables: Mapping[str, Any]) -> bool:
        """Whether the request's ``first`` values take the operation over the tier's limits.

        Only those values change the measure, and requests send the same few again and
        again (a page size, the default): each is measured once, the most recent ones kept.
        Measuring the portal's credit file took 0.2 ms, ten times the rest of its binding.
        Anything but a whole number, null or nothing is measured every time.
        """
        key = tuple(variables.get(name, _ABSENT) for name in self.operation.first_variables)
        cacheable = all(value is None or value is _ABSENT or type(value) is int for value in key)
        if cacheable and key in self.measured:
            return self.measured[key]
        over = bool(
            check(self.limits, measure(self.schema, self.document, self.node, variables), self.node)
        )
        if cacheable:
            self.measured[key] = over
        return over


class CompiledQueries:
    """The plans of one tier's schema, by document text and operation name."""

    def __init__(self, schema: Any, limits: TierLimits, *, sees_unpublished: bool) -> None:
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
        operation = Compiler(self.schema, document, node).compile()
        if not operation.first_variables and check(
            self.limits, measure(self.schema, document, node), node
        ):
            raise NotCompilableError("over the tier's limits")
        return Plan(
            operation,
            query=query,
            sees_unpublished=self.sees_unpublished,
            limits=self.limits,
            schema=self.schema,
            document=document,
            node=node,
        )


def _about(query: str, operation_name: str | None) -> dict[str, str | None]:
    """What a log line says of a document: its operation and a digest, not its whole text."""
    digest = hashlib.sha256(query.encode()).hexdigest()[:16]
    return {"operation": operation_name, "document_sha256": digest}


def _weight_of(plan: Plan) -> int:
    return plan.weight
