"""One session per GraphQL operation: the operation is the transaction."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from hub.auth.audit import AuditRepository
from hub.db import DatabaseUnavailableError
from schema.context import Context

log = logging.getLogger("hub.audit")


class OperationSession(SchemaExtension):
    """Writes the audit of personal-data reads, commits or rolls back, closes the session.

    A mutation without errors is committed. A query is committed only when it read personal
    data, because its audit records must be kept; if they cannot be written, the answer is
    withdrawn: no audit, no read.
    """

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if not isinstance(context, Context) or not context.has_session:
            return
        session = context.session
        result = self.execution_context.result
        failed = result is None or bool(result.errors)
        try:
            if context.personal_reads and result is not None and result.data is not None:
                try:
                    await AuditRepository(session).write(
                        context.principal, context.request_id, context.personal_reads
                    )
                    await session.commit()
                except Exception as error:
                    # An outage is the caller's to retry (503), and hub.db logs it once.
                    outage = isinstance(error, DatabaseUnavailableError)
                    if not outage:
                        log.exception("audit write failed; withholding the answer")
                    await session.rollback()
                    result.data = None
                    result.errors = [
                        GraphQLError(
                            "The read could not be audited, so it was not answered.",
                            extensions={"code": "UNAVAILABLE" if outage else "INTERNAL"},
                        )
                    ]
                return
            if not failed and self.execution_context.operation_type is OperationType.MUTATION:
                await session.commit()
        finally:
            # What is left to end a read is its ROLLBACK: sent after the answer when the HTTP
            # layer offers to (Context.closes_after_response), here otherwise.
            if not context.closes_after_response:
                await context.close()
