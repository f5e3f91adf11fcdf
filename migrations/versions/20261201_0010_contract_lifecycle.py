"""contract_api: the contract lifecycle columns (expand: all nullable or defaulted)

Revision ID: 20261201_0010
Revises: 20261201_0009
Create Date: 2026-12-01 20:50:49.679990
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261201_0010"
down_revision: str | None = "20261201_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("contracts", sa.Column("posts", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("contracts", sa.Column("payment_schedule", sa.String(length=12), nullable=True))
    op.add_column(
        "contracts", sa.Column("takeover_plan", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column("contracts", sa.Column("work_plan", sa.Text(), nullable=True))
    op.add_column("contracts", sa.Column("acknowledged_by", sa.String(length=200), nullable=True))
    op.add_column("contracts", sa.Column("takeover", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column(
        "contracts", sa.Column("termination", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column("contracts", sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.add_column(
        "contracts",
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )

    op.create_check_constraint(
        op.f("ck_contracts_payment_schedule"),
        "contracts",
        "payment_schedule IS NULL OR payment_schedule IN ('monthly', 'quarterly')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_contracts_payment_schedule"), "contracts", type_="check")
    op.drop_column("contracts", "updated_at")
    op.drop_column("contracts", "version")
    op.drop_column("contracts", "termination")
    op.drop_column("contracts", "takeover")
    op.drop_column("contracts", "acknowledged_by")
    op.drop_column("contracts", "work_plan")
    op.drop_column("contracts", "takeover_plan")
    op.drop_column("contracts", "payment_schedule")
    op.drop_column("contracts", "posts")
