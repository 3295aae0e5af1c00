"""The ledger of issued credit reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CHAR, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base


class CreditReport(Base):
    """One credit report the hub issued, as anyone verifying it is shown it.

    Rows are only ever added: a report, once issued, stays verifiable. The USCC is not a
    foreign key because the record of what was issued must outlive any change to the
    enterprise's own row. The verification code itself is not stored, only its SHA-256
    (``hub.report.codes``), so that a copy of the table does not let anyone vouch for a report.
    """

    __tablename__ = "credit_report"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    uscc: Mapped[str] = mapped_column(CHAR(18), index=True)
    #: The name the report shows: the enterprise may be renamed after.
    enterprise_name: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime]
    #: SHA-256 of the PDF's bytes as issued (signature included), lower-case hex.
    sha256: Mapped[str] = mapped_column(CHAR(64))
    #: SHA-256 of the normalised verification code, lower-case hex.
    code_hash: Mapped[str] = mapped_column(CHAR(64))
