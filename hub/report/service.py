"""Issuing and verifying credit reports: the rules, and the unit of work of each request."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.db import DatabaseUnavailableError, HubSession, transaction
from hub.kit.time import utcnow
from hub.report.codes import hash_code, new_code, new_number, normalise_number
from hub.report.errors import ReportUnavailableError
from hub.report.models import CreditReport
from hub.report.repository import CreditReportRepository

log = logging.getLogger("hub.report")

#: What a reader is told when the database fails: the cause goes to the log only.
_LEDGER_DOWN = "the ledger of credit reports cannot be reached just now"

#: Compared against when a number is unknown, so that the answer takes as long as for a known
#: number with a wrong code.
_NO_SUCH_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class Issue:
    """What a new report carries before it is made: its number, code and instant."""

    number: str
    code: str
    issued_at: datetime

    @classmethod
    def new(cls, now: datetime | None = None) -> Issue:
        """Numbers and codes from ``secrets``; the instant to the second, as it is printed."""
        at = (now or utcnow()).replace(microsecond=0)
        return cls(new_number(at), new_code(), at)


@dataclass(frozen=True, slots=True)
class IssuedReport:
    """A report as ``/verify`` shows it: its key facts, never its code."""

    number: str
    uscc: str
    enterprise_name: str
    issued_at: datetime
    sha256: str


def _issued(report: CreditReport) -> IssuedReport:
    return IssuedReport(
        report.number, report.uscc, report.enterprise_name, report.issued_at, report.sha256
    )


class CreditReportService:
    """Takes the session of the request; flushes, never commits."""

    def __init__(self, session: HubSession) -> None:
        self.repository = CreditReportRepository(session)

    async def record(
        self, issue: Issue, *, uscc: str, enterprise_name: str, sha256: str
    ) -> IssuedReport:
        report = CreditReport(
            number=issue.number,
            uscc=uscc,
            enterprise_name=enterprise_name,
            issued_at=issue.issued_at,
            sha256=sha256,
            code_hash=hash_code(issue.code),
        )
        await self.repository.add(report)
        return _issued(report)

    async def verify(self, number: str, code: str) -> IssuedReport | None:
        """The report with this number if ``code`` is its code; None otherwise.

        An unknown number and a wrong code give the same None after the same work, so that
        the answer tells nothing about which numbers exist.
        """
        report = await self.repository.by_number(normalise_number(number))
        stored = report.code_hash if report is not None else _NO_SUCH_HASH
        matches = hmac.compare_digest(stored, hash_code(code))
        return _issued(report) if report is not None and matches else None


class CreditReportLedger:
    """The ledger as the portal's report requests use it: each call is one unit of work, one
    session committed at its end and rolled back if anything in it fails."""

    def __init__(self, sessionmaker: async_sessionmaker[HubSession]) -> None:
        self.sessionmaker = sessionmaker

    async def record(
        self, issue: Issue, *, uscc: str, enterprise_name: str, sha256: str
    ) -> IssuedReport:
        try:
            async with transaction(self.sessionmaker) as session:
                return await CreditReportService(session).record(
                    issue, uscc=uscc, enterprise_name=enterprise_name, sha256=sha256
                )
        except SQLAlchemyError as error:
            if not isinstance(error, DatabaseUnavailableError):  # hub.db logs an outage once
                log.exception("a credit report could not be recorded")
            raise ReportUnavailableError(_LEDGER_DOWN) from error

    async def verify(self, number: str, code: str) -> IssuedReport | None:
        try:
            async with transaction(self.sessionmaker) as session:
                return await CreditReportService(session).verify(number, code)
        except SQLAlchemyError as error:
            if not isinstance(error, DatabaseUnavailableError):  # hub.db logs an outage once
                log.exception("a credit report could not be looked up")
            raise ReportUnavailableError(_LEDGER_DOWN) from error
