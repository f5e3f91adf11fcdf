"""contract_api: procurement, bids, evaluator sheets; contracts gain procurement, bid and amount (expand)

Revision ID: 20261201_0009
Revises: 20261201_0008
Create Date: 2026-12-01 20:43:54.650688
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261201_0009"
down_revision: str | None = "20261201_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "procurements",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("county_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("method", sa.String(length=30), nullable=False),
        sa.Column("price_weight", sa.Numeric(precision=3, scale=2), nullable=False),
        sa.Column("criteria", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("budget_ceiling", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("bid_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="open", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "method IN ('public_tender', 'competitive_consultation', 'competitive_negotiation', 'single_source')",
            name=op.f("ck_procurements_method"),
        ),
        sa.CheckConstraint("status IN ('open', 'evaluated', 'awarded')", name=op.f("ck_procurements_status")),
        sa.CheckConstraint("budget_ceiling > 0", name=op.f("ck_procurements_ceiling_positive")),
        sa.CheckConstraint("length(county_code) = 6", name=op.f("ck_procurements_county_level")),
        sa.CheckConstraint(
            "price_weight BETWEEN 0.10 AND 0.30", name=op.f("ck_procurements_price_weight_range")
        ),
        sa.ForeignKeyConstraint(
            ["county_code"], ["regions.code"], name=op.f("fk_procurements_county_code_regions")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["purchase_plans.id"], name=op.f("fk_procurements_plan_id_purchase_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procurements")),
    )
    op.create_index("ix_procurements_county_code", "procurements", ["county_code"], unique=False)
    op.create_table(
        "bids",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("procurement_id", sa.BigInteger(), nullable=False),
        sa.Column("contractor_id", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("risk_flags", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("risk_review", sa.Text(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("explanation_accepted", sa.Boolean(), nullable=True),
        sa.Column("price_score", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("quality_score", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("total", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("abnormally_low", sa.Boolean(), nullable=True),
        sa.Column(
            "submitted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "explanation_accepted IS NULL OR explanation IS NOT NULL", name=op.f("ck_bids_accepted_has_text")
        ),
        sa.CheckConstraint("price > 0", name=op.f("ck_bids_price_positive")),
        sa.ForeignKeyConstraint(
            ["contractor_id"], ["contractors.id"], name=op.f("fk_bids_contractor_id_contractors")
        ),
        sa.ForeignKeyConstraint(
            ["procurement_id"], ["procurements.id"], name=op.f("fk_bids_procurement_id_procurements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bids")),
        sa.UniqueConstraint("procurement_id", "contractor_id", name="uq_bids_one_per_contractor"),
    )
    op.create_index("ix_bids_procurement_id", "bids", ["procurement_id"], unique=False)
    op.create_table(
        "bid_scores",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("bid_id", sa.BigInteger(), nullable=False),
        sa.Column("evaluator", sa.String(length=100), nullable=False),
        sa.Column("scores", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["bid_id"], ["bids.id"], name=op.f("fk_bid_scores_bid_id_bids")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bid_scores")),
        sa.UniqueConstraint("bid_id", "evaluator", name="uq_bid_scores_one_per_evaluator"),
    )
    op.add_column("contracts", sa.Column("procurement_id", sa.BigInteger(), nullable=True))
    op.add_column("contracts", sa.Column("bid_id", sa.BigInteger(), nullable=True))
    op.add_column("contracts", sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=True))
    op.alter_column("contracts", "start_date", existing_type=sa.DATE(), nullable=True)
    op.alter_column("contracts", "end_date", existing_type=sa.DATE(), nullable=True)
    # Only a draft may wait for its term; an amount is positive.
    op.create_check_constraint(
        op.f("ck_contracts_term_after_draft"),
        "contracts",
        "status = 'draft' OR (start_date IS NOT NULL AND end_date IS NOT NULL)",
    )
    op.create_check_constraint(
        op.f("ck_contracts_amount_positive"), "contracts", "amount IS NULL OR amount > 0"
    )
    op.create_foreign_key(
        op.f("fk_contracts_procurement_id_procurements"),
        "contracts",
        "procurements",
        ["procurement_id"],
        ["id"],
    )
    op.create_foreign_key(op.f("fk_contracts_bid_id_bids"), "contracts", "bids", ["bid_id"], ["id"])


def downgrade() -> None:
    op.drop_constraint(op.f("ck_contracts_amount_positive"), "contracts", type_="check")
    op.drop_constraint(op.f("ck_contracts_term_after_draft"), "contracts", type_="check")
    op.drop_constraint(op.f("fk_contracts_bid_id_bids"), "contracts", type_="foreignkey")
    op.drop_constraint(op.f("fk_contracts_procurement_id_procurements"), "contracts", type_="foreignkey")
    op.alter_column("contracts", "end_date", existing_type=sa.DATE(), nullable=False)
    op.alter_column("contracts", "start_date", existing_type=sa.DATE(), nullable=False)
    op.drop_column("contracts", "amount")
    op.drop_column("contracts", "bid_id")
    op.drop_column("contracts", "procurement_id")
    op.drop_table("bid_scores")
    op.drop_index("ix_bids_procurement_id", table_name="bids")
    op.drop_table("bids")
    op.drop_index("ix_procurements_county_code", table_name="procurements")
    op.drop_table("procurements")
