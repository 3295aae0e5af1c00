"""search versions

``search_version`` on the records that have search documents (enterprise, recall,
consumer_warning): raised with every change in the change's transaction, and sent to
Elasticsearch as the document's external version, so that an older document can never replace
a newer one. ``search_document.version``: the version each embedded document was built from.
Existing rows start at 1; documents indexed in Elasticsearch before this revision carry the
engine's own versions, so `hub search reindex --backend elasticsearch` once after upgrading.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = ("enterprise", "recall", "consumer_warning")


def upgrade() -> None:
    # A NOT NULL column with a constant default is added in place by both dialects (by
    # PostgreSQL without rewriting the table since 11).
    for table in VERSIONED:
        op.add_column(
            table, sa.Column("search_version", sa.BigInteger(), server_default="1", nullable=False)
        )
    op.add_column(
        "search_document",
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
    )


def _drop_column(table: str, column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): batch mode would copy the table and lose its triggers, such
        # as the FTS5 ones of search_document.
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    else:
        op.drop_column(table, column)


def downgrade() -> None:
    _drop_column("search_document", "version")
    for table in reversed(VERSIONED):
        _drop_column(table, "search_version")
