"""search tally

``search_tally`` and ``search_tally_word``: for the most frequent words of each kind, how many
rows have each combination of the terms filters ask for, with their facet values
(``search.embedded_tally``). The relay chooses the words on its next build of the heads and
builds their tallies in the passes after; until then searches count the rows, as before.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    tokens: sa.types.TypeEngine[Any] = (
        postgresql.ARRAY(sa.Text()) if op.get_bind().dialect.name == "postgresql" else sa.Text()
    )
    op.create_table(
        "search_tally",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("terms", tokens, nullable=False),
        sa.Column("facets", sa.JSON(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", "terms", name=op.f("pk_search_tally")),
    )
    op.create_table(
        "search_tally_word",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("terms", tokens, nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_search_tally_word")),
    )


def downgrade() -> None:
    op.drop_table("search_tally_word")
    op.drop_table("search_tally")
