"""contract_api: dispatch constraints and payroll records (expand)

- ``contracts.contractor_id`` gets its foreign key to ``contractors`` (it predates that table);
- ``dispatches`` gets an exclusion constraint: one person's dispatch periods never overlap;
- ``payroll_records``: a month's wage and social insurance per dispatch.

Revision ID: 20261201_0011
Revises: 20261201_0010
Create Date: 2026-12-01 22:10:53
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_0011"
down_revision: str | None = "20261201_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payroll_records",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dispatch_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("gross_wage", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("social_insurance_paid", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("extract(day FROM month) = 1", name=op.f("ck_payroll_records_month_first_day")),
        sa.CheckConstraint("gross_wage >= 0", name=op.f("ck_payroll_records_wage_not_negative")),
        sa.ForeignKeyConstraint(
            ["dispatch_id"], ["dispatches.id"], name=op.f("fk_payroll_records_dispatch_id_dispatches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payroll_records")),
        sa.UniqueConstraint("dispatch_id", "month", name="uq_payroll_records_one_per_month"),
    )
    # NOT VALID then VALIDATE: the check of existing rows does not block writers meanwhile.
    op.execute(
        "ALTER TABLE contracts ADD CONSTRAINT fk_contracts_contractor_id_contractors "
        "FOREIGN KEY (contractor_id) REFERENCES contractors (id) NOT VALID"
    )
    op.execute("ALTER TABLE contracts VALIDATE CONSTRAINT fk_contracts_contractor_id_contractors")
    op.execute(
        "ALTER TABLE dispatches ADD CONSTRAINT one_dispatch_at_a_time EXCLUDE USING gist "
        "(int8range(person_id, person_id, '[]') WITH &&, daterange(start_date, end_date, '[]') WITH &&)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE dispatches DROP CONSTRAINT one_dispatch_at_a_time")
    op.drop_constraint(op.f("fk_contracts_contractor_id_contractors"), "contracts", type_="foreignkey")
    op.drop_table("payroll_records")
