"""idempotency: the claim of a new key as a database function, so that it travels with ``BEGIN``

``idempotency_claim(...)`` takes the key's advisory lock without waiting and inserts its claim, as
``services/common/idempotency.py``'s ``CLAIM`` statement does, but answers by raising: a key it
cannot claim (locked by a twin, or a row already there) is SQLSTATE ``JZ409``, and a claim made
leaves its id in the transaction's setting ``jiuzhu.idempotency_claim``. It returns nothing, so it
can be sent in one simple-protocol message with ``BEGIN`` (whose rows the driver would not return):
a keyed write then begins its transaction and claims its key in one round trip (issue 8).

Revision ID: 20261204_0016
Revises: 20261202_0015
Create Date: 2026-12-04 21:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261204_0016"
down_revision: str | None = "20261202_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ARGS = "lock bigint, service text, sub text, method text, route text, key text, request_hash text"
CLAIM = f"""
CREATE OR REPLACE FUNCTION idempotency_claim({ARGS}) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    claimed bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(idempotency_claim.lock) THEN
        RAISE EXCEPTION 'idempotency key in use' USING ERRCODE = 'JZ409';
    END IF;
    INSERT INTO idempotency_keys AS k (service, sub, method, route, key, request_hash, state)
    VALUES (idempotency_claim.service, idempotency_claim.sub, idempotency_claim.method,
            idempotency_claim.route, idempotency_claim.key, idempotency_claim.request_hash, 'in_progress')
    ON CONFLICT ON CONSTRAINT uq_idempotency_scope DO NOTHING
    RETURNING k.id INTO claimed;
    IF claimed IS NULL THEN
        RAISE EXCEPTION 'idempotency key already has a row' USING ERRCODE = 'JZ409';
    END IF;
    PERFORM set_config('jiuzhu.idempotency_claim', claimed::text, true);
END
$$
"""  # noqa: S608 - fixed SQL: the argument list above, never input


def upgrade() -> None:
    op.execute(CLAIM)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS idempotency_claim({ARGS})")
