"""contract_api: contractors (承接主体) and debarments (禁止参与)

Revision ID: 20261201_0005
Revises: 20261201_0004
Create Date: 2026-12-01 20:25:41.103287
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_0005"
down_revision: str | None = "20261201_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contractors",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("org_type", sa.String(length=24), nullable=False),
        sa.Column("registration_authority", sa.String(length=24), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("public_institution_category", sa.String(length=24), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=False),
        sa.Column("social_insurance_enrollees", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(org_type = 'public_institution') = (public_institution_category IS NOT NULL) AND (public_institution_category IS NULL OR public_institution_category IN ('public_welfare_1', 'public_welfare_2', 'production_operation', 'administrative'))",
            name=op.f("ck_contractors_category_only_for_public_institutions"),
        ),
        sa.CheckConstraint(
            "org_type IN ('social_organization', 'public_institution', 'enterprise', 'other_institution', 'government_body')",
            name=op.f("ck_contractors_org_type"),
        ),
        sa.CheckConstraint(
            "registration_authority IN ('civil_affairs', 'state_council_exempt', 'market_regulation', 'industry_authority', 'establishment_office', 'other')",
            name=op.f("ck_contractors_authority"),
        ),
        sa.CheckConstraint("uscc ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'", name=op.f("ck_contractors_uscc_shape")),
        sa.CheckConstraint(
            "employees >= 0 AND social_insurance_enrollees >= 0",
            name=op.f("ck_contractors_counts_non_negative"),
        ),
        sa.CheckConstraint("length(region_code) >= 6", name=op.f("ck_contractors_county_or_below")),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_contractors_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contractors")),
        sa.UniqueConstraint("uscc", name="uq_contractors_uscc"),
    )
    op.create_index("ix_contractors_region_code", "contractors", ["region_code"], unique=False)
    op.create_table(
        "debarments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("contractor_id", sa.BigInteger(), nullable=False),
        sa.Column("contract_id", sa.BigInteger(), nullable=True),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("until > since", name=op.f("ck_debarments_period_order")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_debarments_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["contractor_id"], ["contractors.id"], name=op.f("fk_debarments_contractor_id_contractors")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_debarments_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debarments")),
    )
    op.create_index("ix_debarments_contractor_id", "debarments", ["contractor_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_debarments_contractor_id", table_name="debarments")
    op.drop_table("debarments")
    op.drop_index("ix_contractors_region_code", table_name="contractors")
    op.drop_table("contractors")
