"""penalty_api: the ledger's hash as a database function, used by the writer and by verify

``ledger_hash(...)`` is penalties.md's recipe — sha256 over prev_hash and the canonical JSON of the
hashed fields — written once, in SQL: the append is then one statement (lock the head, chain, move the
head), and verifying a province's chains is one query. ``to_json(text)`` escapes exactly what Python's
``json.dumps(..., ensure_ascii=False)`` does (quotes, backslashes, control characters; UTF-8 kept), so
an auditor's ``hashlib`` recomputation from the entries endpoint agrees; the tests hold the function
to the fixed vectors and to ``ledger/rules.py``'s reference on random text.

Revision ID: 20261201_0014
Revises: 20261201_0013
Create Date: 2026-12-01 23:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261201_0014"
down_revision: str | None = "20261201_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ARGS = (
    "contract_id bigint, seq integer, entry_type text, amount numeric, violation_id bigint, appeal_id bigint, "
    "payment_ref text, period text, created_at timestamptz, created_by text, request_id text, prev_hash text"
)
CANONICAL = f"""
CREATE OR REPLACE FUNCTION ledger_canonical({ARGS}) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT '{{"amount":' || to_json(amount::numeric(16, 2)::text)::text
        || ',"appeal_id":' || coalesce(to_json(appeal_id::text)::text, 'null')
        || ',"contract_id":' || to_json(contract_id::text)::text
        || ',"created_at":' || to_json(to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text
        || ',"created_by":' || to_json(created_by)::text
        || ',"entry_type":' || to_json(entry_type)::text
        || ',"payment_ref":' || coalesce(to_json(payment_ref)::text, 'null')
        || ',"period":' || coalesce(to_json(period)::text, 'null')
        || ',"prev_hash":' || to_json(prev_hash)::text
        || ',"request_id":' || to_json(request_id)::text
        || ',"seq":' || seq::text
        || ',"violation_id":' || coalesce(to_json(violation_id::text)::text, 'null')
        || '}}'
$$
"""
HASH = f"""
CREATE OR REPLACE FUNCTION ledger_hash({ARGS}) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT encode(sha256(convert_to(prev_hash || ledger_canonical(contract_id, seq, entry_type, amount,
        violation_id, appeal_id, payment_ref, period, created_at, created_by, request_id, prev_hash), 'UTF8')), 'hex')
$$
"""


def upgrade() -> None:
    op.execute(CANONICAL)
    op.execute(HASH)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS ledger_hash({ARGS})")
    op.execute(f"DROP FUNCTION IF EXISTS ledger_canonical({ARGS})")
