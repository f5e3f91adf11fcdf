"""contract_api: funds (allocations, lines, expenditures) and performance (indicator systems,
evaluations, satisfaction surveys); contracts.termination_recommended

Revision ID: 20261202_0015
Revises: 20261201_0014
Create Date: 2026-12-02 03:04:28.419821
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_0015"
down_revision: str | None = "20261201_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indicator_systems",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("indicators", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_indicator_systems_year_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_systems")),
    )
    op.create_table(
        "allocations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("parent_line_id", sa.BigInteger(), nullable=True),
        sa.Column("total_amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("own_funds", sa.Numeric(precision=16, scale=2), server_default="0", nullable=False),
        sa.Column("weights", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="draft", nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status <> 'published' OR published_at IS NOT NULL",
            name=op.f("ck_allocations_published_has_time"),
        ),
        sa.CheckConstraint(
            "status = 'draft' OR approved_by IS NOT NULL", name=op.f("ck_allocations_approved_has_approver")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'published')", name=op.f("ck_allocations_status")
        ),
        sa.CheckConstraint(
            "(parent_line_id IS NULL) = (length(region_code) = 2)",
            name=op.f("ck_allocations_prefectures_reallocate"),
        ),
        sa.CheckConstraint(
            "length(region_code) IN (2, 4)", name=op.f("ck_allocations_province_or_prefecture")
        ),
        sa.CheckConstraint("own_funds >= 0", name=op.f("ck_allocations_own_funds_non_negative")),
        sa.CheckConstraint("total_amount > 0", name=op.f("ck_allocations_total_positive")),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_allocations_year_range")),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_allocations_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocations")),
        sa.UniqueConstraint("parent_line_id", name=op.f("uq_allocations_parent_line_id")),
    )
    op.create_table(
        "allocation_lines",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("allocation_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("factors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("share", sa.Numeric(precision=8, scale=6), nullable=False),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("spent", sa.Numeric(precision=16, scale=2), server_default="0", nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_allocation_lines_amount_non_negative")),
        sa.CheckConstraint("share BETWEEN 0 AND 1", name=op.f("ck_allocation_lines_share_range")),
        sa.CheckConstraint(
            "spent >= 0 AND spent <= amount", name=op.f("ck_allocation_lines_balance_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["allocation_id"], ["allocations.id"], name=op.f("fk_allocation_lines_allocation_id_allocations")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_allocation_lines_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_lines")),
        sa.UniqueConstraint("allocation_id", "region_code", name=op.f("uq_allocation_lines_allocation_id")),
    )
    op.create_index("ix_allocation_lines_region_code", "allocation_lines", ["region_code"], unique=False)
    op.create_foreign_key(
        op.f("fk_allocations_parent_line_id_allocation_lines"),
        "allocations",
        "allocation_lines",
        ["parent_line_id"],
        ["id"],
    )
    op.create_table(
        "evaluations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("contract_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("indicator_system_id", sa.BigInteger(), nullable=False),
        sa.Column("scores", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("total", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("grade", sa.String(length=10), nullable=False),
        sa.Column("termination_recommended", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "grade = CASE WHEN total >= 90 THEN 'excellent' WHEN total >= 80 THEN 'good' WHEN total >= 60 THEN 'pass' ELSE 'fail' END",
            name=op.f("ck_evaluations_grade_of_total"),
        ),
        sa.CheckConstraint("period ~ '^\\d{4}(-Q[1-4])?$'", name=op.f("ck_evaluations_period_format")),
        sa.CheckConstraint("length(region_code) = 6", name=op.f("ck_evaluations_county_level")),
        sa.CheckConstraint("total BETWEEN 0 AND 100", name=op.f("ck_evaluations_total_range")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_evaluations_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["indicator_system_id"],
            ["indicator_systems.id"],
            name=op.f("fk_evaluations_indicator_system_id_indicator_systems"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_evaluations_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
        sa.UniqueConstraint("contract_id", "period", name=op.f("uq_evaluations_contract_id")),
    )
    op.create_table(
        "satisfaction_surveys",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("contract_id", sa.BigInteger(), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("surveyed_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "channel IN ('phone', 'visit', 'online', 'paper')", name=op.f("ck_satisfaction_surveys_channel")
        ),
        sa.CheckConstraint(
            "length(region_code) IN (6, 9, 12)", name=op.f("ck_satisfaction_surveys_county_or_below")
        ),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_satisfaction_surveys_score_range")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_satisfaction_surveys_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_satisfaction_surveys_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_surveys")),
    )
    op.create_index(
        "ix_satisfaction_surveys_contract_id", "satisfaction_surveys", ["contract_id"], unique=False
    )
    op.create_index(
        "ix_satisfaction_surveys_region_code", "satisfaction_surveys", ["region_code"], unique=False
    )
    op.create_table(
        "expenditures",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("allocation_line_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("contract_id", sa.BigInteger(), nullable=True),
        sa.Column("payment_id", sa.BigInteger(), nullable=True),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "category <> 'service_purchase' OR contract_id IS NOT NULL",
            name=op.f("ck_expenditures_purchase_has_contract"),
        ),
        sa.CheckConstraint("category = 'service_purchase'", name=op.f("ck_expenditures_category_spendable")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_expenditures_amount_positive")),
        sa.CheckConstraint("length(region_code) = 6", name=op.f("ck_expenditures_county_level")),
        sa.CheckConstraint(
            "payment_id IS NULL OR contract_id IS NOT NULL", name=op.f("ck_expenditures_payment_has_contract")
        ),
        sa.ForeignKeyConstraint(
            ["allocation_line_id"],
            ["allocation_lines.id"],
            name=op.f("fk_expenditures_allocation_line_id_allocation_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_expenditures_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_expenditures_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_expenditures_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expenditures")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_expenditures_payment_id")),
    )
    op.create_index(
        "ix_expenditures_allocation_line_id", "expenditures", ["allocation_line_id"], unique=False
    )
    op.add_column(
        "contracts",
        sa.Column("termination_recommended", sa.Boolean(), server_default="false", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("contracts", "termination_recommended")
    op.drop_index("ix_expenditures_allocation_line_id", table_name="expenditures")
    op.drop_table("expenditures")
    op.drop_index("ix_satisfaction_surveys_region_code", table_name="satisfaction_surveys")
    op.drop_index("ix_satisfaction_surveys_contract_id", table_name="satisfaction_surveys")
    op.drop_table("satisfaction_surveys")
    op.drop_table("evaluations")
    op.drop_index("ix_allocation_lines_region_code", table_name="allocation_lines")
    op.drop_constraint(
        op.f("fk_allocations_parent_line_id_allocation_lines"), "allocations", type_="foreignkey"
    )
    op.drop_table("allocation_lines")
    op.drop_table("allocations")
    op.drop_table("indicator_systems")
