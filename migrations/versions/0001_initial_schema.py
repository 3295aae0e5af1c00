"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 19:33:10.185645
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.kit.time
from hub.enterprise.reference import INDUSTRIES, REGIONS

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consumer_warning",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("hazard", sa.Text(), nullable=False),
        sa.Column("advice", sa.Text(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "LOW", "MEDIUM", "HIGH", "CRITICAL", name="severity", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("source_agency", sa.String(length=100), nullable=False),
        sa.Column("published_at", hub.kit.time.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumer_warning")),
        sa.UniqueConstraint("number", name=op.f("uq_consumer_warning_number")),
    )
    with op.batch_alter_table("consumer_warning", schema=None) as batch_op:
        batch_op.create_index("ix_consumer_warning_issued", ["issued_on", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_consumer_warning_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "industry",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_industry")),
    )
    op.create_table(
        "region",
        sa.Column("code", sa.CHAR(length=6), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_region")),
    )
    op.create_table(
        "enterprise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.CHAR(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("legal_representative", sa.String(length=60), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "SUSPENDED",
                "REVOKED",
                "CANCELLED",
                name="enterprisestatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("region_code", sa.CHAR(length=6), nullable=False),
        sa.Column("industry_code", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("established_on", sa.Date(), nullable=False),
        sa.Column(
            "credit_grade",
            sa.Enum("A", "B", "C", "D", name="creditgrade", native_enum=False, length=24),
            nullable=True,
        ),
        sa.Column("source_agency", sa.String(length=100), nullable=False),
        sa.Column("published_at", hub.kit.time.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["industry_code"], ["industry.code"], name=op.f("fk_enterprise_industry_code_industry")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["region.code"], name=op.f("fk_enterprise_region_code_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise")),
        sa.UniqueConstraint("uscc", name=op.f("uq_enterprise_uscc")),
    )
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.create_index("ix_enterprise_established", ["established_on", "id"], unique=False)
        batch_op.create_index(
            "ix_enterprise_grade_established",
            ["credit_grade", "established_on", "id"],
            unique=False,
        )
        batch_op.create_index("ix_enterprise_name", ["name", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_enterprise_published_at"), ["published_at"], unique=False
        )
        batch_op.create_index(
            "ix_enterprise_region_established",
            ["region_code", "established_on", "id"],
            unique=False,
        )

    op.create_table(
        "blacklist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_number", sa.String(length=80), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column(
            "list_type",
            sa.Enum(
                "QUALITY_BLACKLIST",
                "SERIOUS_VIOLATION",
                name="listtype",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("authority", sa.String(length=100), nullable=False),
        sa.Column("listed_on", sa.Date(), nullable=False),
        sa.Column("publicity_ends_on", sa.Date(), nullable=False),
        sa.Column("source_agency", sa.String(length=100), nullable=False),
        sa.Column("published_at", hub.kit.time.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_blacklist_entry_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blacklist_entry")),
        sa.UniqueConstraint("decision_number", name=op.f("uq_blacklist_entry_decision_number")),
    )
    with op.batch_alter_table("blacklist_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_blacklist_entry_enterprise", ["enterprise_id", "listed_on"], unique=False
        )
        batch_op.create_index("ix_blacklist_entry_listed", ["listed_on", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_blacklist_entry_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "credit_evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column(
            "grade",
            sa.Enum("A", "B", "C", "D", name="creditgrade", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("evaluated_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.Column("authority", sa.String(length=100), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("source_agency", sa.String(length=100), nullable=False),
        sa.Column("published_at", hub.kit.time.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_credit_evaluation_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_evaluation")),
        sa.UniqueConstraint(
            "enterprise_id",
            "evaluated_at",
            "authority",
            name=op.f("uq_credit_evaluation_enterprise_id"),
        ),
    )
    with op.batch_alter_table("credit_evaluation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_credit_evaluation_enterprise_evaluated",
            ["enterprise_id", "evaluated_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_credit_evaluation_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "licence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=150), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "VALID",
                "SUSPENDED",
                "REVOKED",
                "CANCELLED",
                "EXPIRED",
                name="licencestatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("source_agency", sa.String(length=100), nullable=False),
        sa.Column("published_at", hub.kit.time.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_licence_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence")),
        sa.UniqueConstraint("number", name=op.f("uq_licence_number")),
    )
    with op.batch_alter_table("licence", schema=None) as batch_op:
        batch_op.create_index(
            "ix_licence_enterprise_valid_from", ["enterprise_id", "valid_from", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_licence_published_at"), ["published_at"], unique=False)
        batch_op.create_index(
            "ix_licence_status_valid_from", ["status", "valid_from", "id"], unique=False
        )
        batch_op.create_index("ix_licence_valid_from", ["valid_from", "id"], unique=False)

    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("source_agency", sa.String(length=100), nullable=False),
        sa.Column("published_at", hub.kit.time.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_product_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
        sa.UniqueConstraint(
            "enterprise_id", "name", "brand", "model", name=op.f("uq_product_enterprise_id")
        ),
        sa.UniqueConstraint("gtin", name=op.f("uq_product_gtin")),
    )
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.create_index("ix_product_category", ["category", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_product_published_at"), ["published_at"], unique=False)

    op.create_table(
        "blacklist_removal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("removed_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("authority", sa.String(length=100), nullable=False),
        sa.Column("source_agency", sa.String(length=100), nullable=False),
        sa.Column("published_at", hub.kit.time.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["blacklist_entry.id"],
            name=op.f("fk_blacklist_removal_entry_id_blacklist_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blacklist_removal")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_blacklist_removal_entry_id")),
    )
    with op.batch_alter_table("blacklist_removal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_blacklist_removal_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "consumer_warning_product",
        sa.Column("warning_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_consumer_warning_product_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warning_id"],
            ["consumer_warning.id"],
            name=op.f("fk_consumer_warning_product_warning_id_consumer_warning"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "warning_id", "product_id", name=op.f("pk_consumer_warning_product")
        ),
    )
    with op.batch_alter_table("consumer_warning_product", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consumer_warning_product_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "licence_status_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "VALID",
                "SUSPENDED",
                "REVOKED",
                "CANCELLED",
                "EXPIRED",
                name="licencestatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            ["licence.id"],
            name=op.f("fk_licence_status_event_licence_id_licence"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_status_event")),
        sa.UniqueConstraint(
            "licence_id", "at", "status", name=op.f("uq_licence_status_event_licence_id")
        ),
    )
    op.create_table(
        "recall",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_number", sa.String(length=40), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("hazard", sa.Text(), nullable=False),
        sa.Column("remedy", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("VOLUNTARY", "ORDERED", name="recallkind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("ONGOING", "COMPLETED", name="recallstatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("affected_units", sa.Integer(), nullable=False),
        sa.Column("produced_from", sa.Date(), nullable=False),
        sa.Column("produced_until", sa.Date(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("source_agency", sa.String(length=100), nullable=False),
        sa.Column("published_at", hub.kit.time.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_recall_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_recall_product_id_product"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recall")),
        sa.UniqueConstraint("notice_number", name=op.f("uq_recall_notice_number")),
    )
    with op.batch_alter_table("recall", schema=None) as batch_op:
        batch_op.create_index(
            "ix_recall_enterprise_started", ["enterprise_id", "started_on", "id"], unique=False
        )
        batch_op.create_index(
            "ix_recall_product_started", ["product_id", "started_on", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_recall_published_at"), ["published_at"], unique=False)
        batch_op.create_index("ix_recall_started", ["started_on", "id"], unique=False)

    op.create_table(
        "spot_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_number", sa.String(length=60), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "NATIONAL",
                "PROVINCIAL",
                "MUNICIPAL",
                "INDUSTRY",
                name="checklevel",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("region_code", sa.CHAR(length=6), nullable=False),
        sa.Column("sampled_on", sa.Date(), nullable=False),
        sa.Column(
            "result",
            sa.Enum("PASS", "FAIL", name="checkresult", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("inspecting_body", sa.String(length=150), nullable=False),
        sa.Column("source_agency", sa.String(length=100), nullable=False),
        sa.Column("published_at", hub.kit.time.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.kit.time.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_spot_check_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_spot_check_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["region.code"], name=op.f("fk_spot_check_region_code_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_check")),
        sa.UniqueConstraint("report_number", name=op.f("uq_spot_check_report_number")),
    )
    with op.batch_alter_table("spot_check", schema=None) as batch_op:
        batch_op.create_index(
            "ix_spot_check_enterprise_sampled", ["enterprise_id", "sampled_on", "id"], unique=False
        )
        batch_op.create_index(
            "ix_spot_check_product_sampled", ["product_id", "sampled_on", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_spot_check_published_at"), ["published_at"], unique=False
        )
        batch_op.create_index(
            "ix_spot_check_result_level", ["result", "level", "sampled_on"], unique=False
        )
        batch_op.create_index("ix_spot_check_sampled", ["sampled_on", "id"], unique=False)

    op.create_table(
        "consumer_warning_recall",
        sa.Column("warning_id", sa.Integer(), nullable=False),
        sa.Column("recall_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recall_id"],
            ["recall.id"],
            name=op.f("fk_consumer_warning_recall_recall_id_recall"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warning_id"],
            ["consumer_warning.id"],
            name=op.f("fk_consumer_warning_recall_warning_id_consumer_warning"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("warning_id", "recall_id", name=op.f("pk_consumer_warning_recall")),
    )
    with op.batch_alter_table("consumer_warning_recall", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consumer_warning_recall_recall_id"), ["recall_id"], unique=False
        )

    op.create_table(
        "spot_check_failed_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("spot_check_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=150), nullable=False),
        sa.Column("standard", sa.String(length=100), nullable=False),
        sa.Column("required", sa.String(length=150), nullable=False),
        sa.Column("measured", sa.String(length=150), nullable=False),
        sa.ForeignKeyConstraint(
            ["spot_check_id"],
            ["spot_check.id"],
            name=op.f("fk_spot_check_failed_item_spot_check_id_spot_check"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_check_failed_item")),
        sa.UniqueConstraint(
            "spot_check_id", "position", name=op.f("uq_spot_check_failed_item_spot_check_id")
        ),
    )
    region = sa.table("region", sa.column("code", sa.CHAR(6)), sa.column("name", sa.String))
    industry = sa.table("industry", sa.column("code", sa.String), sa.column("name", sa.String))
    op.bulk_insert(region, [{"code": c, "name": n} for c, n in REGIONS.items()])
    op.bulk_insert(industry, [{"code": c, "name": n} for c, n in INDUSTRIES.items()])


def downgrade() -> None:
    op.drop_table("spot_check_failed_item")
    with op.batch_alter_table("consumer_warning_recall", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consumer_warning_recall_recall_id"))

    op.drop_table("consumer_warning_recall")
    with op.batch_alter_table("spot_check", schema=None) as batch_op:
        batch_op.drop_index("ix_spot_check_sampled")
        batch_op.drop_index("ix_spot_check_result_level")
        batch_op.drop_index(batch_op.f("ix_spot_check_published_at"))
        batch_op.drop_index("ix_spot_check_product_sampled")
        batch_op.drop_index("ix_spot_check_enterprise_sampled")

    op.drop_table("spot_check")
    with op.batch_alter_table("recall", schema=None) as batch_op:
        batch_op.drop_index("ix_recall_started")
        batch_op.drop_index(batch_op.f("ix_recall_published_at"))
        batch_op.drop_index("ix_recall_product_started")
        batch_op.drop_index("ix_recall_enterprise_started")

    op.drop_table("recall")
    op.drop_table("licence_status_event")
    with op.batch_alter_table("consumer_warning_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consumer_warning_product_product_id"))

    op.drop_table("consumer_warning_product")
    with op.batch_alter_table("blacklist_removal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blacklist_removal_published_at"))

    op.drop_table("blacklist_removal")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_published_at"))
        batch_op.drop_index("ix_product_category")

    op.drop_table("product")
    with op.batch_alter_table("licence", schema=None) as batch_op:
        batch_op.drop_index("ix_licence_valid_from")
        batch_op.drop_index("ix_licence_status_valid_from")
        batch_op.drop_index(batch_op.f("ix_licence_published_at"))
        batch_op.drop_index("ix_licence_enterprise_valid_from")

    op.drop_table("licence")
    with op.batch_alter_table("credit_evaluation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_evaluation_published_at"))
        batch_op.drop_index("ix_credit_evaluation_enterprise_evaluated")

    op.drop_table("credit_evaluation")
    with op.batch_alter_table("blacklist_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blacklist_entry_published_at"))
        batch_op.drop_index("ix_blacklist_entry_listed")
        batch_op.drop_index("ix_blacklist_entry_enterprise")

    op.drop_table("blacklist_entry")
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_index("ix_enterprise_region_established")
        batch_op.drop_index(batch_op.f("ix_enterprise_published_at"))
        batch_op.drop_index("ix_enterprise_name")
        batch_op.drop_index("ix_enterprise_grade_established")
        batch_op.drop_index("ix_enterprise_established")

    op.drop_table("enterprise")
    op.drop_table("region")
    op.drop_table("industry")
    with op.batch_alter_table("consumer_warning", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consumer_warning_published_at"))
        batch_op.drop_index("ix_consumer_warning_issued")

    op.drop_table("consumer_warning")
