"""signing keys

``signing_key``: the keys that sign the hub's access tokens, so that every process signs and
verifies with the same keys and a key can be rotated (``hub keys``). The table starts empty:
the first process of the hub to need a key imports the one at ``HUB_SIGNING_KEY_PATH``
(``hub.auth.signing``), so tokens signed before the upgrade stay valid.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.kit.time

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIMESTAMP = hub.kit.time.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "signing_key",
        sa.Column("serial", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=8), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("activates_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("retired_at", UTC_TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "private_pem IS NOT NULL OR retired_at IS NOT NULL",
            name=op.f("ck_signing_key_private_key"),
        ),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_signing_key")),
        sa.UniqueConstraint("kid", name=op.f("uq_signing_key_kid")),
    )


def downgrade() -> None:
    op.drop_table("signing_key")
