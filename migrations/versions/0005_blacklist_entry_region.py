"""blacklist entry region

``blacklist_entry.region_code``: the listed enterprise's region, kept by the database. The
blacklist's region filter (the public list of a province, newest first) then reads the entries
alone instead of probing the enterprise of every listing it walks past: on 1,000,000
enterprises the page of 50 in Guangdong read 2,266 buffers (323 listings walked, an enterprise
probe each), now 432. It also makes the generic plan of the hub's prepared statement safe: with
the join, PostgreSQL's generic plan hashed every enterprise of the range (150 ms).

Triggers keep the copy whoever writes, the hub, the importer's upserts or the demo loader's
COPY: an entry takes its enterprise's region when it is written, and the entries of an
enterprise follow it when its region changes. On PostgreSQL a BEFORE trigger sets the column
in the row being written; SQLite's triggers cannot change the row being written, so an AFTER
trigger updates it.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENTRY_REGION = "(SELECT e.region_code FROM enterprise e WHERE e.id = {entry}.enterprise_id)"

_POSTGRESQL_UP = (
    # Every write of an entry recomputes the copy, so nothing can make it drift.
    "CREATE FUNCTION blacklist_entry_region() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN NEW.region_code := {_ENTRY_REGION.format(entry='NEW')}; RETURN NEW; END $$",
    "CREATE TRIGGER blacklist_entry_region BEFORE INSERT OR UPDATE ON blacklist_entry "
    "FOR EACH ROW EXECUTE FUNCTION blacklist_entry_region()",
    "CREATE FUNCTION enterprise_region_to_blacklist() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE blacklist_entry SET region_code = NEW.region_code "
    "WHERE enterprise_id = NEW.id; RETURN NULL; END $$",
    "CREATE TRIGGER enterprise_region_to_blacklist AFTER UPDATE OF region_code ON enterprise "
    "FOR EACH ROW WHEN (OLD.region_code IS DISTINCT FROM NEW.region_code) "
    "EXECUTE FUNCTION enterprise_region_to_blacklist()",
)
_POSTGRESQL_DOWN = (
    "DROP TRIGGER IF EXISTS enterprise_region_to_blacklist ON enterprise",
    "DROP FUNCTION IF EXISTS enterprise_region_to_blacklist()",
    "DROP TRIGGER IF EXISTS blacklist_entry_region ON blacklist_entry",
    "DROP FUNCTION IF EXISTS blacklist_entry_region()",
)

_SQLITE_SET_REGION = (
    f"UPDATE blacklist_entry SET region_code = {_ENTRY_REGION.format(entry='NEW')} "
    "WHERE id = NEW.id;"
)
_SQLITE_UP = (
    # recursive_triggers is off: the UPDATE inside does not fire these triggers again.
    "CREATE TRIGGER blacklist_entry_region_ai AFTER INSERT ON blacklist_entry "
    f"BEGIN {_SQLITE_SET_REGION} END",
    "CREATE TRIGGER blacklist_entry_region_au AFTER UPDATE ON blacklist_entry "
    f"BEGIN {_SQLITE_SET_REGION} END",
    "CREATE TRIGGER enterprise_region_to_blacklist AFTER UPDATE OF region_code ON enterprise "
    "WHEN OLD.region_code IS NOT NEW.region_code BEGIN "
    "UPDATE blacklist_entry SET region_code = NEW.region_code WHERE enterprise_id = NEW.id; END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS enterprise_region_to_blacklist",
    "DROP TRIGGER IF EXISTS blacklist_entry_region_au",
    "DROP TRIGGER IF EXISTS blacklist_entry_region_ai",
)


def upgrade() -> None:
    with op.batch_alter_table("blacklist_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_code", sa.CHAR(length=6), nullable=True))
    op.execute(
        "UPDATE blacklist_entry SET region_code = " + _ENTRY_REGION.format(entry="blacklist_entry")
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in _POSTGRESQL_UP:
            op.execute(statement)
    elif dialect == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in _POSTGRESQL_DOWN:
            op.execute(statement)
    elif dialect == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    with op.batch_alter_table("blacklist_entry", schema=None) as batch_op:
        batch_op.drop_column("region_code")
