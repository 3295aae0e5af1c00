"""search document marks

``search_document.marks`` holds, as bits, which of the rare terms almost every search asks a
row not to have (``search.terms.MARKS``: unpublished, blacklisted) the row has: a search tests
a small integer where it scanned the row's whole term array for them (at 1M, 20 ms of the
45 ms that 广东 食品's 3,445 rows took). Filled here for the rows there are; most rows have no
bit set, so only those with one of the terms are written.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# search.terms.MARKS as it was written: term -> bit.
_MARKS = {"p:0": 1, "b:1": 2}


def upgrade() -> None:
    op.add_column(
        "search_document",
        sa.Column("marks", sa.SmallInteger(), server_default="0", nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        has = "search_document.tokens && ARRAY['{term}']::text[]"
        terms = ",".join(f"'{term}'" for term in _MARKS)
        where = f"search_document.tokens && ARRAY[{terms}]::text[]"
    else:  # the terms as space-separated text
        has = "instr(' ' || search_document.tokens || ' ', ' {term} ') > 0"
        where = " OR ".join(has.format(term=term) for term in _MARKS)
    bits = " + ".join(
        f"(CASE WHEN {has.format(term=term)} THEN {bit} ELSE 0 END)" for term, bit in _MARKS.items()
    )
    op.execute(f"UPDATE search_document SET marks = {bits} WHERE {where}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE search_document (marks)")


def downgrade() -> None:
    with op.batch_alter_table("search_document") as batch_op:
        batch_op.drop_column("marks")
