"""All SQL of the ledger of issued credit reports (``credit_report``)."""

from __future__ import annotations

from sqlalchemy import select

from hub.db import HubSession
from hub.report.models import CreditReport


class CreditReportRepository:
    """Not a ``hub.kit.repository.Repository``: the ledger holds no published records and
    no principal reads it. Anyone may look a report up, but only by its number and code
    (``hub.report.service``)."""

    def __init__(self, session: HubSession) -> None:
        self.session = session

    async def add(self, report: CreditReport) -> None:
        """Insert ``report``; a number already issued raises ``IntegrityError``."""
        self.session.add(report)
        await self.session.flush()

    async def by_number(self, number: str) -> CreditReport | None:
        found: CreditReport | None = await self.session.scalar(
            select(CreditReport).where(CreditReport.number == number)
        )
        return found
