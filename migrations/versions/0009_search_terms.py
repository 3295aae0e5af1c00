"""search terms

The embedded index answers text, filters, facets and samples from one column of terms
(``search.terms``): ``search_document.tokens`` now holds field tokens, filter attributes,
time-dependent facts and sample levels, with ``facets`` (the record's facet values),
``flags_until`` (when its time-dependent facts change) and ``day`` (the date ranges' day); the
partial ``ix_search_document_flags_until`` finds the rows whose facts changed.
``search_head`` keeps the first rows of a frequent term's matches in ranking order, up to the
bound in ``search_head_bound``, for the page of a frequent word.

No search asks PostgreSQL to estimate a substring filter any more (its estimate of one was ten
times off): the planner sees conditions on terms only, which it estimates from the element
statistics it keeps of ``tokens``, and the units confirm the matches in Python. On SQLite the
FTS5 table is made again with ``:`` as a token character, so that a term stays one token.

The documents indexed before this revision have the old tokens: they are deleted, and every
record is put in ``search_outbox`` in the same transaction, so the relay rebuilds the embedded
index without anyone running a command (``hub search reindex`` is faster). Elasticsearch's
indices carry a mapping version (``search.elastic.MAPPING_VERSION``): an index of the old
mapping is refused, and searches answer from the embedded index, until
``hub search reindex --backend elasticsearch`` builds a new one. A downgrade does the same.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fts(tokenizer: str) -> tuple[str, ...]:
    """The FTS5 table over ``search_document.tokens`` and the triggers keeping it in step."""
    return (
        "CREATE VIRTUAL TABLE search_document_fts USING fts5(tokens, content='search_document', "
        f"content_rowid='id', tokenize=\"{tokenizer}\")",
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


_DROP_FTS = (
    "DROP TRIGGER IF EXISTS search_document_au",
    "DROP TRIGGER IF EXISTS search_document_ad",
    "DROP TRIGGER IF EXISTS search_document_ai",
    "DROP TABLE IF EXISTS search_document_fts",
)
# unicode61 keeps letters, digits and CJK characters together; ``:`` joins a term's prefix.
_TERMS_TOKENIZER = "unicode61 remove_diacritics 0 tokenchars ':'"
_OLD_TOKENIZER = "unicode61 remove_diacritics 0"


def _rebuild_fts(tokenizer: str) -> None:
    for statement in _DROP_FTS:
        op.execute(statement)
    op.execute("DELETE FROM search_document")
    for statement in _fts(tokenizer):
        op.execute(statement)


# The tables of the records each kind of document is built from (``search.documents.MODELS``).
_RECORDS = {"enterprise": "enterprise", "recall": "recall", "warning": "consumer_warning"}


def _enqueue_everything() -> None:
    """Put every record in the outbox for both backends: the index the migration emptied is
    rebuilt by the relay, as after any change, with nothing to remember."""
    for kind, table in _RECORDS.items():
        op.execute(
            "INSERT INTO search_outbox (kind, ref_id, created_at) "
            f"SELECT '{kind}', id, CURRENT_TIMESTAMP FROM {table}"
        )


# The statistics target of ``search_document.tokens`` (PostgreSQL keeps ten times as many
# most common elements of an array column).
_STATISTICS = 1000


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _enqueue_everything()
    if dialect == "sqlite":
        _rebuild_fts(_TERMS_TOKENIZER)
    else:
        op.execute("DELETE FROM search_document")
        # Ten thousand most common terms instead of a thousand: the planner's estimate of a
        # term condition, and the search's own plan (search.embedded_statistics), come
        # from them, and a term outside them is guessed at.
        op.execute(f"ALTER TABLE search_document ALTER COLUMN tokens SET STATISTICS {_STATISTICS}")
    op.add_column(
        "search_document", sa.Column("facets", sa.JSON(), server_default="{}", nullable=False)
    )
    op.add_column(
        "search_document", sa.Column("flags_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("search_document", sa.Column("day", sa.Date(), nullable=True))
    tokens: sa.types.TypeEngine[Any] = (
        postgresql.ARRAY(sa.Text()) if dialect == "postgresql" else sa.Text()
    )
    op.create_table(
        "search_head",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", "rank", "ref_id", name=op.f("pk_search_head")),
    )
    op.create_index("ix_search_head_kind_ref_id", "search_head", ["kind", "ref_id"])
    op.create_table(
        "search_head_bound",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("required", tokens, nullable=False),
        sa.Column("excluded", tokens, nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_search_head_bound")),
    )
    op.create_index(op.f("ix_search_head_bound_term"), "search_head_bound", ["term"], unique=False)
    op.create_index(
        "ix_search_document_flags_until",
        "search_document",
        ["flags_until"],
        unique=False,
        postgresql_where=sa.text("flags_until IS NOT NULL"),
        sqlite_where=sa.text("flags_until IS NOT NULL"),
    )


def _drop_column(column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): batch mode would copy the table and lose its FTS5 triggers.
        op.execute(f'ALTER TABLE search_document DROP COLUMN "{column}"')
    else:
        op.drop_column("search_document", column)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_search_document_flags_until", table_name="search_document")
    op.drop_index(op.f("ix_search_head_bound_term"), table_name="search_head_bound")
    op.drop_table("search_head_bound")
    op.drop_index("ix_search_head_kind_ref_id", table_name="search_head")
    op.drop_table("search_head")
    for column in ("day", "flags_until", "facets"):
        _drop_column(column)
    _enqueue_everything()
    if dialect == "sqlite":
        _rebuild_fts(_OLD_TOKENIZER)
    else:
        op.execute("DELETE FROM search_document")
        op.execute("ALTER TABLE search_document ALTER COLUMN tokens SET STATISTICS -1")
