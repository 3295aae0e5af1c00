"""search schedule

``search_schedule``: when a periodic task of the search relay last ran, by name, shared by
every process. The heads of frequent words (``search.embedded_heads``) were built again by
each ``hub serve`` worker every 10 minutes by its own clock: N workers built them N times.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_schedule",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_search_schedule")),
    )


def downgrade() -> None:
    op.drop_table("search_schedule")
