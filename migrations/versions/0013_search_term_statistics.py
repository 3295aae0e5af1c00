"""search term statistics

The planner's statistics of ``search_document.tokens`` go back to a hundred as target (about a
thousand most common elements), and the ten thousand most common terms that the search's own
plan and the choice of heads go by (``search.embedded_statistics``) are kept apart, as the
statistics of an expression over the same column (``search_document_terms``), which no
search's condition names. The planner deconstructed and searched the large list for every
estimate of a term condition: at 1M enterprises, planning took a third of the database's time
on the benchmark's query set (1.9 s of 6.1 s), 21 ms for one page statement of a recall
search; with the small list, a quarter of that.

PostgreSQL only (14 and later keep statistics of an expression); SQLite keeps none.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The statistics object of the terms, read by ``search.embedded_statistics.read_frequencies``.
_TERMS = "search_document_terms"
# An expression equal to ``tokens`` that no condition of a search is written on.
_EXPRESSION = "array_cat(tokens, '{}'::text[])"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE STATISTICS {_TERMS} ON ({_EXPRESSION}) FROM search_document")
    op.execute(f"ALTER STATISTICS {_TERMS} SET STATISTICS 1000")
    op.execute("ALTER TABLE search_document ALTER COLUMN tokens SET STATISTICS 100")
    # Read at once: the heads are chosen by them, and autovacuum may be hours away.
    op.execute("ANALYZE search_document")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP STATISTICS IF EXISTS {_TERMS}")
    op.execute("ALTER TABLE search_document ALTER COLUMN tokens SET STATISTICS 1000")
    op.execute("ANALYZE search_document")
