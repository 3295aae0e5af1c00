"""search tally phrases

A tally may count the rows of a phrase that its terms cannot say (USB插座, PPR冷热水管: a
product's name): ``search_tally_word.pattern`` holds its units as the text columns write them,
and a row has the phrase when one of them holds the pattern. Such a search counted its matches
row by row up to the count limit (at 1M, 10,001 rows on 9,400 pages for USB插座) and read a
sample of them for its facets. Words keep no pattern.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("search_tally_word", sa.Column("pattern", sa.Text(), nullable=True))


def downgrade() -> None:
    # A phrase's tally is not a word's: gone with the column, the relay chooses words again.
    op.execute(
        "DELETE FROM search_tally WHERE key IN "
        "(SELECT key FROM search_tally_word WHERE pattern IS NOT NULL)"
    )
    op.execute("DELETE FROM search_tally_word WHERE pattern IS NOT NULL")
    with op.batch_alter_table("search_tally_word") as batch_op:
        batch_op.drop_column("pattern")
