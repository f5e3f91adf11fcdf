"""contract_api: purchase needs (购买需求) and their lines

Revision ID: 20261201_0007
Revises: 20261201_0006
Create Date: 2026-12-01 20:34:31.530735
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_0007"
down_revision: str | None = "20261201_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "purchase_needs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("county_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("estimated_total", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="draft", nullable=False),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.Column("author_sub", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(status = 'returned') = (return_reason IS NOT NULL)",
            name=op.f("ck_purchase_needs_returned_has_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'accepted', 'returned')", name=op.f("ck_purchase_needs_status")
        ),
        sa.CheckConstraint("estimated_total >= 0", name=op.f("ck_purchase_needs_total_non_negative")),
        sa.CheckConstraint(
            "length(region_code) IN (6, 9)", name=op.f("ck_purchase_needs_county_or_township")
        ),
        sa.CheckConstraint(
            "starts_with(region_code, county_code) AND length(county_code) = 6",
            name=op.f("ck_purchase_needs_county_of_region"),
        ),
        sa.CheckConstraint("year BETWEEN 2019 AND 2100", name=op.f("ck_purchase_needs_year_range")),
        sa.ForeignKeyConstraint(
            ["county_code"], ["regions.code"], name=op.f("fk_purchase_needs_county_code_regions")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_purchase_needs_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_needs")),
    )
    op.create_index("ix_purchase_needs_region_code", "purchase_needs", ["region_code"], unique=False)
    op.create_table(
        "purchase_need_items",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("need_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("catalog_code", sa.String(length=60), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=12), nullable=False),
        sa.Column("posting_level", sa.String(length=12), nullable=True),
        sa.Column("estimated_amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.CheckConstraint(
            "posting_level IS NULL OR posting_level IN ('county', 'township', 'village', 'institution')",
            name=op.f("ck_purchase_need_items_posting_level"),
        ),
        sa.CheckConstraint(
            "unit IN ('person_month', 'person', 'service')", name=op.f("ck_purchase_need_items_unit")
        ),
        sa.CheckConstraint("estimated_amount > 0", name=op.f("ck_purchase_need_items_amount_positive")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_purchase_need_items_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["catalog_code"],
            ["service_catalog.code"],
            name=op.f("fk_purchase_need_items_catalog_code_service_catalog"),
        ),
        sa.ForeignKeyConstraint(
            ["need_id"], ["purchase_needs.id"], name=op.f("fk_purchase_need_items_need_id_purchase_needs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_need_items")),
    )
    op.create_index("ix_purchase_need_items_need_id", "purchase_need_items", ["need_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_purchase_need_items_need_id", table_name="purchase_need_items")
    op.drop_table("purchase_need_items")
    op.drop_index("ix_purchase_needs_region_code", table_name="purchase_needs")
    op.drop_table("purchase_needs")
