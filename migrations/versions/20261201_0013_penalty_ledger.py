"""penalty_api: violations, the append-only ledger, appeals, replacements, settlements; payments;
and the role the services connect as.

``jiuzhu_app`` (cluster-wide, created once) holds the services' privileges: every table's DML, except
on the ledger's entries and settlement answers, where it may only SELECT and INSERT. Services take it
at connection start (``Settings.db_role``); migrations keep running as the owner. ``ENABLE ALWAYS``
triggers refuse UPDATE, DELETE and TRUNCATE on those tables for everyone, the owner included and even
with ``session_replication_role = replica``.

Revision ID: 20261201_0013
Revises: 20261201_0012
Create Date: 2026-12-01 22:44:24.288932
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261201_0013"
down_revision: str | None = "20261201_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "jiuzhu_app"
APPEND_ONLY = ("ledger_entries", "settlements")
GRANTS = (
    f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} NOLOGIN;
        END IF;
    END $$""",
    # The user that migrates (and, in a simple deployment, runs the services) may take the role.
    f"GRANT {APP_ROLE} TO CURRENT_USER",
    f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}",
    f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}",
    f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {APP_ROLE}",  # migrations only
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}",
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}",
    """CREATE OR REPLACE FUNCTION refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END $$""",
)


def upgrade() -> None:
    op.create_table(
        "ledger_heads",
        sa.Column("contract_id", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("deducted", sa.Numeric(precision=16, scale=2), server_default="0", nullable=False),
        sa.Column("reversed", sa.Numeric(precision=16, scale=2), server_default="0", nullable=False),
        sa.Column("settled", sa.Numeric(precision=16, scale=2), server_default="0", nullable=False),
        sa.CheckConstraint("last_seq >= 0", name=op.f("ck_ledger_heads_seq_not_negative")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_ledger_heads_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("contract_id", name=op.f("pk_ledger_heads")),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("contract_id", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("gross_amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("payment_ref", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("deductions_applied", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("credit_repaid", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("net_amount", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'completed') = (net_amount IS NOT NULL AND deductions_applied IS NOT NULL AND credit_repaid IS NOT NULL AND completed_at IS NOT NULL)",
            name=op.f("ck_payments_completed_has_figures"),
        ),
        sa.CheckConstraint("status IN ('pending', 'completed')", name=op.f("ck_payments_status")),
        sa.CheckConstraint("gross_amount > 0", name=op.f("ck_payments_gross_positive")),
        sa.CheckConstraint(
            "net_amount IS NULL OR net_amount = gross_amount - deductions_applied + credit_repaid",
            name=op.f("ck_payments_net_from_figures"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_payments_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("contract_id", "period", name="uq_payments_contract_period"),
        sa.UniqueConstraint("payment_ref", name="uq_payments_payment_ref"),
    )
    op.create_table(
        "settlements",
        sa.Column("payment_ref", sa.String(length=100), nullable=False),
        sa.Column("contract_id", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("gross_amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("deductions_applied", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("credit_repaid", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("net_amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("carried_forward", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("ledger_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("gross_amount >= 0", name=op.f("ck_settlements_gross_not_negative")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_settlements_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("payment_ref", name=op.f("pk_settlements")),
    )
    op.create_table(
        "violations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dispatch_id", sa.BigInteger(), nullable=False),
        sa.Column("contract_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("discovered_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("evidence", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("serious_social_impact", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("base", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("multiplier", sa.Numeric(precision=3, scale=2), nullable=True),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("ledger_seq", sa.Integer(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("dismiss_reason", sa.Text(), nullable=True),
        sa.Column("reported_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('falsification', 'carelessness', 'improper_operation')", name=op.f("ck_violations_kind")
        ),
        sa.CheckConstraint(
            "status IN ('reported', 'confirmed', 'dismissed', 'overturned')",
            name=op.f("ck_violations_status"),
        ),
        sa.CheckConstraint(
            "status IN ('reported', 'dismissed') OR (multiplier IS NOT NULL AND amount IS NOT NULL AND ledger_seq IS NOT NULL AND decided_on IS NOT NULL)",
            name=op.f("ck_violations_confirmed_has_deduction"),
        ),
        sa.CheckConstraint(
            "amount IS NULL OR amount = round(multiplier * base, 2)",
            name=op.f("ck_violations_amount_from_inputs"),
        ),
        sa.CheckConstraint(
            "discovered_on >= occurred_on", name=op.f("ck_violations_discovered_after_occurred")
        ),
        sa.CheckConstraint(
            "multiplier IS NULL OR multiplier BETWEEN 1.00 AND 3.00",
            name=op.f("ck_violations_multiplier_range"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_violations_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["dispatch_id"], ["dispatches.id"], name=op.f("fk_violations_dispatch_id_dispatches")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_violations_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_violations")),
    )
    op.create_index("ix_violations_contract_id", "violations", ["contract_id"], unique=False)
    op.create_index("ix_violations_region_code", "violations", ["region_code"], unique=False)
    op.create_table(
        "appeals",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("violation_id", sa.BigInteger(), nullable=False),
        sa.Column("contract_id", sa.BigInteger(), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("filed_by", sa.String(length=200), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL)", name=op.f("ck_appeals_decided_has_time")
        ),
        sa.CheckConstraint("status IN ('pending', 'upheld', 'rejected')", name=op.f("ck_appeals_status")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_appeals_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["violation_id"], ["violations.id"], name=op.f("fk_appeals_violation_id_violations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("violation_id", name="uq_appeals_violation_id"),
    )
    op.create_table(
        "replacement_requests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("dispatch_id", sa.BigInteger(), nullable=False),
        sa.Column("contract_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("violation_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("new_dispatch_id", sa.BigInteger(), nullable=True),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(new_dispatch_id IS NULL) = (fulfilled_at IS NULL)",
            name=op.f("ck_replacement_requests_fulfilled_has_dispatch"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_replacement_requests_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["dispatch_id"], ["dispatches.id"], name=op.f("fk_replacement_requests_dispatch_id_dispatches")
        ),
        sa.ForeignKeyConstraint(
            ["new_dispatch_id"],
            ["dispatches.id"],
            name=op.f("fk_replacement_requests_new_dispatch_id_dispatches"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_replacement_requests_region_code_regions")
        ),
        sa.ForeignKeyConstraint(
            ["violation_id"], ["violations.id"], name=op.f("fk_replacement_requests_violation_id_violations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replacement_requests")),
    )
    op.create_index(
        "ix_replacement_requests_region_code", "replacement_requests", ["region_code"], unique=False
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("contract_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entry_type", sa.String(length=12), nullable=False),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("violation_id", sa.BigInteger(), nullable=True),
        sa.Column("appeal_id", sa.BigInteger(), nullable=True),
        sa.Column("payment_ref", sa.String(length=100), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "(entry_type = 'deduction' AND violation_id IS NOT NULL AND appeal_id IS NULL AND payment_ref IS NULL AND period IS NULL) OR (entry_type = 'reversal' AND violation_id IS NOT NULL AND appeal_id IS NOT NULL AND payment_ref IS NULL AND period IS NULL) OR (entry_type = 'settlement' AND violation_id IS NULL AND appeal_id IS NULL AND payment_ref IS NOT NULL AND period IS NOT NULL)",
            name=op.f("ck_ledger_entries_refs_by_type"),
        ),
        sa.CheckConstraint(
            "entry_type = 'settlement' OR amount > 0", name=op.f("ck_ledger_entries_amount_sign")
        ),
        sa.CheckConstraint(
            "entry_type IN ('deduction', 'reversal', 'settlement')", name=op.f("ck_ledger_entries_entry_type")
        ),
        sa.CheckConstraint(
            "prev_hash ~ '^[0-9a-f]{64}$' AND hash ~ '^[0-9a-f]{64}$'",
            name=op.f("ck_ledger_entries_hash_shape"),
        ),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_ledger_entries_seq_positive")),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_ledger_entries_appeal_id_appeals")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_ledger_entries_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["violation_id"], ["violations.id"], name=op.f("fk_ledger_entries_violation_id_violations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("contract_id", "seq", name="uq_ledger_entries_contract_seq"),
    )
    op.create_index(
        "uq_ledger_entries_deduction",
        "ledger_entries",
        ["violation_id"],
        unique=True,
        postgresql_where="entry_type = 'deduction'",
    )
    op.create_index("uq_ledger_entries_payment_ref", "ledger_entries", ["payment_ref"], unique=True)
    op.create_index(
        "uq_ledger_entries_reversal",
        "ledger_entries",
        ["appeal_id"],
        unique=True,
        postgresql_where="entry_type = 'reversal'",
    )
    for statement in GRANTS:
        op.execute(statement)
    for table in APPEND_ONLY:
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {APP_ROLE}")
        op.execute(
            f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_rewrite()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite()"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_update_delete")
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate")


def downgrade() -> None:
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.drop_index(
        "uq_ledger_entries_reversal", table_name="ledger_entries", postgresql_where="entry_type = 'reversal'"
    )
    op.drop_index("uq_ledger_entries_payment_ref", table_name="ledger_entries")
    op.drop_index(
        "uq_ledger_entries_deduction",
        table_name="ledger_entries",
        postgresql_where="entry_type = 'deduction'",
    )
    op.drop_table("ledger_entries")
    op.drop_index("ix_replacement_requests_region_code", table_name="replacement_requests")
    op.drop_table("replacement_requests")
    op.drop_table("appeals")
    op.drop_index("ix_violations_region_code", table_name="violations")
    op.drop_index("ix_violations_contract_id", table_name="violations")
    op.drop_table("violations")
    op.drop_table("settlements")
    op.drop_table("payments")
    op.drop_table("ledger_heads")
    op.execute("DROP FUNCTION IF EXISTS refuse_rewrite()")
    # The role stays: it is cluster-wide and other databases of the cluster may use it.
