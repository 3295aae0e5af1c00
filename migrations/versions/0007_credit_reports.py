"""credit reports

``credit_report``: the ledger of the credit reports the portal issued
(``/reports/{uscc}.pdf``), which ``/verify`` looks reports up in. Only the SHA-256 of each
verification code is stored, never the code.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.kit.time

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIMESTAMP = hub.kit.time.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "credit_report",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("uscc", sa.CHAR(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("issued_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("sha256", sa.CHAR(length=64), nullable=False),
        sa.Column("code_hash", sa.CHAR(length=64), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_credit_report")),
    )
    op.create_index(op.f("ix_credit_report_uscc"), "credit_report", ["uscc"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_credit_report_uscc"), table_name="credit_report")
    op.drop_table("credit_report")
