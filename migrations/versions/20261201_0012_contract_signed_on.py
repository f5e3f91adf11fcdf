"""contract_api: the day a contract was signed (expand: nullable, backfilled, then checked)

Public disclosure files contracts under the year they were signed. A contract terminated before
signing has none.

Revision ID: 20261201_0012
Revises: 20261201_0011
Create Date: 2026-12-01 23:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_0012"
down_revision: str | None = "20261201_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("contracts", sa.Column("signed_on", sa.Date(), nullable=True))
    # Contracts signed before this column existed: the best record of the day is their last change.
    op.execute(
        "UPDATE contracts SET signed_on = (updated_at AT TIME ZONE 'Asia/Shanghai')::date "
        "WHERE status IN ('signed', 'filed', 'acknowledged', 'active', 'suspended', 'completed')"
    )
    op.create_check_constraint(
        op.f("ck_contracts_signed_has_date"),
        "contracts",
        "signed_on IS NOT NULL OR status NOT IN "
        "('signed', 'filed', 'acknowledged', 'active', 'suspended', 'completed')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_contracts_signed_has_date"), "contracts", type_="check")
    op.drop_column("contracts", "signed_on")
