"""change feed without a shared row: event ids from the transaction id (services/common/changes.py)

Revision ID: 20261201_0004
Revises: 20261125_0003
Create Date: 2026-12-01 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_0004"
down_revision: str | None = "20261125_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # New ids are (transaction id << 20) + position; they must start above every id already handed
    # out by the counter. That holds unless some transaction recorded over 2^20 events (none can:
    # the largest import is far below), and is checked rather than assumed.
    op.execute("""
        DO $$
        BEGIN
            IF (SELECT coalesce(max(id), 0) FROM events) >= (pg_current_xact_id()::text::bigint << 20) THEN
                RAISE EXCEPTION 'existing event ids reach the new id range; renumbering needed';
            END IF;
        END $$;
    """)
    op.drop_table("event_counter")


def downgrade() -> None:
    op.create_table(
        "event_counter",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_event_counter_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_counter")),
    )
    # The counter goes on from the highest id given so far, so ids keep rising.
    op.execute("INSERT INTO event_counter (id, last_id) SELECT 1, coalesce(max(id), 0) FROM events")
