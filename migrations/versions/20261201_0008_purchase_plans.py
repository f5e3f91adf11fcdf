"""contract_api: purchase plans (购买计划); a need records the plan it went into (expand)

Revision ID: 20261201_0008
Revises: 20261201_0007
Create Date: 2026-12-01 20:38:38.365306
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261201_0008"
down_revision: str | None = "20261201_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "purchase_plans",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("county_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("funding_source", sa.String(length=30), nullable=False),
        sa.Column("total", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="draft", nullable=False),
        sa.Column("warnings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("justifications", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(status = 'rejected') = (reject_reason IS NOT NULL)",
            name=op.f("ck_purchase_plans_rejected_has_reason"),
        ),
        sa.CheckConstraint(
            "funding_source IN ('provincial_special_subsidy', 'prefecture_funds', 'county_funds')",
            name=op.f("ck_purchase_plans_funding_source"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'approved', 'rejected')", name=op.f("ck_purchase_plans_status")
        ),
        sa.CheckConstraint("length(county_code) = 6", name=op.f("ck_purchase_plans_county_level")),
        sa.CheckConstraint("total >= 0", name=op.f("ck_purchase_plans_total_non_negative")),
        sa.CheckConstraint("year BETWEEN 2019 AND 2100", name=op.f("ck_purchase_plans_year_range")),
        sa.ForeignKeyConstraint(
            ["county_code"], ["regions.code"], name=op.f("fk_purchase_plans_county_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_plans")),
    )
    op.create_index("ix_purchase_plans_county_code", "purchase_plans", ["county_code"], unique=False)
    op.add_column("purchase_needs", sa.Column("plan_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_purchase_needs_plan_id_purchase_plans"),
        "purchase_needs",
        "purchase_plans",
        ["plan_id"],
        ["id"],
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_purchase_needs_plan_id_purchase_plans"), "purchase_needs", type_="foreignkey")
    op.drop_column("purchase_needs", "plan_id")
    op.drop_index("ix_purchase_plans_county_code", table_name="purchase_plans")
    op.drop_table("purchase_plans")
