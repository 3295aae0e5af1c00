"""One session per GraphQL operation: the operation is the transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from schema.context import Context


class OperationSession(SchemaExtension):
    """Commits a mutation whose result has no errors; otherwise rolls back. Closes the session.

    Queries are rolled back too: they wrote nothing, and a rollback costs the same round trip.
    """

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if not isinstance(context, Context) or not context.has_session:
            return
        session = context.session
        result = self.execution_context.result
        failed = (
            result is None
            or bool(result.errors)
            or bool(self.execution_context.pre_execution_errors)
        )
        try:
            if not failed and self.execution_context.operation_type is OperationType.MUTATION:
                await session.commit()
        finally:
            await session.close()
