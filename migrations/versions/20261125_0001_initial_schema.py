"""initial schema: regions, stats, establishment, audit, events, idempotency, revoked tokens

Revision ID: 20261125_0001
Revises:
Create Date: 2026-11-25 19:54:33.482453
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261125_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("service", sa.String(length=20), nullable=False),
        sa.Column("sub", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("resource", sa.String(length=60), nullable=False),
        sa.Column("resource_id", sa.String(length=100), nullable=False),
        sa.Column("region", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_region_id", "audit_events", ["region", "id"], unique=False)
    op.create_table(
        "event_counter",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_event_counter_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_counter")),
    )
    # The feed's single counter row: events take their ids from it at commit time.
    op.execute("INSERT INTO event_counter (id, last_id) VALUES (1, 0)")
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("resource", sa.String(length=60), nullable=False),
        sa.Column("resource_id", sa.String(length=100), nullable=False),
        sa.Column("region", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_region_id", "events", ["region", "id"], unique=False)
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("service", sa.String(length=20), nullable=False),
        sa.Column("sub", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_headers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state = 'in_progress' OR response_status IS NOT NULL",
            name=op.f("ck_idempotency_keys_completed_has_response"),
        ),
        sa.CheckConstraint("state IN ('in_progress', 'completed')", name=op.f("ck_idempotency_keys_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("service", "sub", "method", "route", "key", name="uq_idempotency_scope"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], unique=False)
    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("parent_code", sa.String(length=12, collation="C"), nullable=True),
        sa.Column("directly_administered", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(level = 'province' AND kind = 'province') OR (level = 'prefecture' AND kind IN ('city', 'autonomous_prefecture')) OR (level = 'county' AND kind IN ('district', 'county_city', 'county', 'autonomous_county')) OR (level = 'township' AND kind IN ('town', 'township', 'subdistrict', 'other')) OR (level = 'village' AND kind IN ('village', 'community'))",
            name=op.f("ck_regions_kind_matches_level"),
        ),
        sa.CheckConstraint(
            "(level = 'province' AND length(code) = 2) OR (level = 'prefecture' AND length(code) = 4) OR (level = 'county' AND length(code) = 6) OR (level = 'township' AND length(code) = 9) OR (level = 'village' AND length(code) = 12)",
            name=op.f("ck_regions_level_matches_code"),
        ),
        sa.CheckConstraint(
            "NOT directly_administered OR level = 'county'", name=op.f("ck_regions_direct_only_counties")
        ),
        sa.CheckConstraint(
            "code ~ '^[0-9]+$' AND length(code) IN (2, 4, 6, 9, 12)", name=op.f("ck_regions_code_format")
        ),
        sa.CheckConstraint(
            "(parent_code IS NULL AND length(code) = 2) OR starts_with(code, parent_code)",
            name=op.f("ck_regions_parent_is_prefix"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["regions.code"], name=op.f("fk_regions_parent_code_regions")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    op.create_index("ix_regions_level_code", "regions", ["level", "code"], unique=False)
    op.create_index("ix_regions_parent_code", "regions", ["parent_code"], unique=False)
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_tokens")),
    )
    op.create_table(
        "establishments",
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("authorized_posts", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("authorized_posts >= 0", name=op.f("ck_establishments_posts_non_negative")),
        sa.CheckConstraint(
            "length(region_code) IN (6, 9)", name=op.f("ck_establishments_county_or_township")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_establishments_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("region_code", name=op.f("pk_establishments")),
    )
    op.create_table(
        "region_stats",
        sa.Column("region_code", sa.String(length=12, collation="C"), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("dibao_recipients", sa.Integer(), nullable=True),
        sa.Column("tekun_recipients", sa.Integer(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("demo", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("dibao_recipients >= 0", name=op.f("ck_region_stats_dibao_non_negative")),
        sa.CheckConstraint(
            "dibao_recipients IS NOT NULL OR tekun_recipients IS NOT NULL OR population IS NOT NULL",
            name=op.f("ck_region_stats_some_figure"),
        ),
        sa.CheckConstraint("extract(day from month) = 1", name=op.f("ck_region_stats_month_is_first_day")),
        sa.CheckConstraint("length(region_code) IN (6, 9, 12)", name=op.f("ck_region_stats_stats_level")),
        sa.CheckConstraint("population >= 0", name=op.f("ck_region_stats_population_non_negative")),
        sa.CheckConstraint("tekun_recipients >= 0", name=op.f("ck_region_stats_tekun_non_negative")),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_region_stats_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("region_code", "month", name=op.f("pk_region_stats")),
    )

    # Audit rows and events are append-only: no UPDATE or DELETE, whoever asks.
    op.execute("""
        CREATE FUNCTION jiuzhu_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END $$;
    """)
    for table in ("audit_events", "events"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_append_only()"
        )


def downgrade() -> None:
    for table in ("audit_events", "events"):
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    op.execute("DROP FUNCTION jiuzhu_append_only()")
    op.drop_table("region_stats")
    op.drop_table("establishments")
    op.drop_table("revoked_tokens")
    op.drop_index("ix_regions_parent_code", table_name="regions")
    op.drop_index("ix_regions_level_code", table_name="regions")
    op.drop_table("regions")
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_events_region_id", table_name="events")
    op.drop_table("events")
    op.drop_table("event_counter")
    op.drop_index("ix_audit_events_region_id", table_name="audit_events")
    op.drop_table("audit_events")
