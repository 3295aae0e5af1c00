"""Root fields of the warnings subgraph."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from hub.warning.models import Severity as SeverityEnum
from hub.warning.repository import WarningFilter, WarningRepository
from schema.access import argument, input_field, resolver
from schema.context import Info
from schema.pagination import After, Connection, First, connection, request
from schema.warnings.types import ConsumerWarning


@strawberry.input(description="Which consumer warnings to list; all conditions must hold.")
class ConsumerWarningFilterInput:
    severity: SeverityEnum | None = input_field(description="How serious the hazard is.")
    category: str | None = input_field(description="Product category concerned.")
    issued_after: date | None = input_field(description="Issued on or after this date.")
    issued_before: date | None = input_field(description="Issued on or before this date.")


@strawberry.type
class WarningsQuery:
    @resolver(description="Consumer warnings, newest first.")
    async def consumer_warnings(
        self,
        info: Info,
        filter: Annotated[
            ConsumerWarningFilterInput | None, argument("Conditions on the list.")
        ] = None,
        first: First = 20,
        after: After = None,
    ) -> Connection[ConsumerWarning]:
        given = filter or ConsumerWarningFilterInput()
        domain_filter = WarningFilter(
            severity=given.severity,
            category=given.category,
            issued_after=given.issued_after,
            issued_before=given.issued_before,
        )
        repository = WarningRepository(info.context.session, info.context.principal)
        page = await repository.find(domain_filter, request(first, after, 2))
        return connection(page, ConsumerWarning.from_row, lambda: repository.total(domain_filter))
