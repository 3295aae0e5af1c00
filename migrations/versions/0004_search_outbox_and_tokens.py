"""search outbox and tokens

The embedded search index (``search_document``) and the outbox (``search_outbox``). The token
index is dialect-specific: on SQLite an FTS5 table over the tokens, external content kept in
step by triggers; on PostgreSQL a GIN index over the ``text[]`` column.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UP = (
    # unicode61 splits the stored space-separated tokens and nothing else: tokens hold only
    # letters, digits and CJK characters, which it keeps, and it must not fold diacritics.
    "CREATE VIRTUAL TABLE search_document_fts USING fts5(tokens, content='search_document', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN "
    "INSERT INTO search_document_fts(rowid, tokens) VALUES (new.id, new.tokens); END",
    "CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN "
    "INSERT INTO search_document_fts(search_document_fts, rowid, tokens) "
    "VALUES ('delete', old.id, old.tokens); END",
    "CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN "
    "INSERT INTO search_document_fts(search_document_fts, rowid, tokens) "
    "VALUES ('delete', old.id, old.tokens); "
    "INSERT INTO search_document_fts(rowid, tokens) VALUES (new.id, new.tokens); END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS search_document_au",
    "DROP TRIGGER IF EXISTS search_document_ad",
    "DROP TRIGGER IF EXISTS search_document_ai",
    "DROP TABLE IF EXISTS search_document_fts",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    tokens: sa.types.TypeEngine[Any] = (
        postgresql.ARRAY(sa.Text()) if dialect == "postgresql" else sa.Text()
    )
    op.create_table(
        "search_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("tokens", tokens, nullable=False),
        sa.Column("text_0", sa.Text(), nullable=False),
        sa.Column("text_1", sa.Text(), nullable=False),
        sa.Column("text_2", sa.Text(), nullable=False),
        sa.Column("text_3", sa.Text(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_document")),
        sa.UniqueConstraint("kind", "ref_id", name=op.f("uq_search_document_kind")),
    )
    op.create_table(
        "search_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("embedded_done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("elasticsearch_done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_outbox")),
    )
    op.create_index(
        "ix_search_outbox_embedded_pending", "search_outbox", ["embedded_done_at", "id"]
    )
    op.create_index(
        "ix_search_outbox_elasticsearch_pending",
        "search_outbox",
        ["elasticsearch_done_at", "id"],
    )
    if dialect == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("CREATE INDEX ix_search_document_tokens ON search_document USING gin (tokens)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    op.drop_index("ix_search_outbox_elasticsearch_pending", table_name="search_outbox")
    op.drop_index("ix_search_outbox_embedded_pending", table_name="search_outbox")
    op.drop_table("search_outbox")
    op.drop_table("search_document")
