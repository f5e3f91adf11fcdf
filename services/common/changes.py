"""Audit rows and change-feed events, written in the same transaction as the change they record.

How the feed keeps its order without a shared row
-------------------------------------------------

The feed promises: ids strictly increasing in the order readers can see them, so a reader that has
seen id N never later sees an id below N, and nothing is skipped. A plain sequence breaks that
(transaction 2 may take id 8 and commit before transaction 1 commits id 7, so a reader at 8 never
sees 7). Until issue 8 the ids came from one counter row locked as the transaction's last statement,
which kept the order but made every write in the province queue on that row while its holder's
service sent the rest of its statements and its ``COMMIT``.

Two designs were measured (``bench/writes.py``, PostgreSQL alone, 64 asyncpg clients):

* ids handed out *inside* ``COMMIT`` by a deferred constraint trigger: the counter is then locked
  only during the commit itself, but still through its WAL flush, so commits cannot share a flush
  (group commit) and the province's writes are capped by one fsync at a time: ~2,400 commits/s here
  against ~1,400 for the old shape, and lower on a slower disk whatever the number of cores;
* **no shared row** (chosen): an event's id is its transaction id and its position in that
  transaction, ``id = xid × 2^20 + position``, and the feed serves only ids below
  ``pg_snapshot_xmin(pg_current_snapshot()) × 2^20`` — below the oldest transaction still in flight,
  where nothing new can appear any more. Writers share nothing: ~9,300 commits/s here.

What the choice costs, and why it is acceptable:

* ids are sparse (``xid << 20``), not 1, 2, 3. They are still integers, strictly increasing, and
  ``GET /api/v1/events?after=N`` is unchanged. They stay within JavaScript's exact integers until
  the cluster's 8.6 billionth transaction, and within ``bigint`` until its 8.8 trillionth.
* an event becomes visible when every transaction that began writing before it has ended, not
  just its own: a write that runs for a second holds later events back for that second. The
  services set ``idle_in_transaction_session_timeout`` so an abandoned transaction cannot hold the
  feed for long (``Settings.db_idle_in_transaction_timeout``).
* the horizon is the whole *cluster's*: transaction ids are shared by every database on the
  server, so a long writing transaction in another database on it (a bulk load, a migration, a
  ``CREATE DATABASE``) holds the feed back too. A read-only one (``pg_dump``) takes no transaction
  id and holds nothing. The tests that read the feed run with no template copy in flight for this
  reason (``reads_feed`` in ``tests/conftest.py``).
* one transaction may record at most 2^20 (1,048,576) events.

Why ``xmin`` is safe: within one statement the snapshot and ``pg_current_snapshot()`` are the same,
so every transaction below its ``xmin`` has ended — committed (visible to this read) or rolled back
(gone) — and PostgreSQL never hands out a transaction id below it again. The horizon only rises.
The transaction id is the top-level one (``pg_current_xact_id()``), so savepoints change nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, bindparam, literal_column, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth.tokens import Principal
from services.common.database import Statement, driver
from services.common.errors import invalid

PENDING = "jiuzhu.pending_events"
PENDING_AUDIT = "jiuzhu.pending_audit"
WRITTEN = "jiuzhu.events_written"

POSITION_BITS = 20
MAX_EVENTS_PER_TRANSACTION = 1 << POSITION_BITS


# The audit rows and events as two CTEs: the rows travel as two JSON arrays, so the statement text
# never changes (compiled and prepared once per connection) and a 500-item batch costs one round trip
# like a single write. ``after`` names a one-row CTE of the enclosing statement that must have produced
# its row for anything to be written; ``late`` is a jsonb expression of that statement merged into the
# data of the events queued with ``late=True`` (``record_change``).
def flush_ctes(*, after: str | None = None, late: str = "'{}'::jsonb") -> str:
    """SQL for ``WITH``: what ``flush_events`` writes, for a statement that must write it itself —
    one that takes a hot row's lock (``concurrency.py``), so that only COMMIT follows the lock."""
    joined = f", {after}" if after else ""
    return f"""
    audit AS (
        INSERT INTO audit_events (service, sub, role, action, resource, resource_id, region, request_id)
        SELECT a.service, a.sub, a.role, a.action, a.resource, a.resource_id, a.region, a.request_id
        FROM jsonb_to_recordset(:audit) AS a(
            service text, sub text, role text, action text, resource text, resource_id text,
            region text, request_id text){joined}
    ), feed AS (
        INSERT INTO events (id, type, resource, resource_id, region, data)
        SELECT (pg_current_xact_id()::text::bigint << {POSITION_BITS}) + :offset + e.position - 1,
               e.item ->> 'type', e.item ->> 'resource', e.item ->> 'resource_id', e.item ->> 'region',
               CASE WHEN e.item ? 'late' THEN (e.item -> 'data') || {late} ELSE e.item -> 'data' END
        FROM jsonb_array_elements(:events) WITH ORDINALITY AS e(item, position){joined}
    )"""  # noqa: S608 - fixed SQL: the callers' own CTE names and expressions, never input


FLUSH_TYPES = (
    bindparam("audit", type_=JSONB),
    bindparam("events", type_=JSONB),
    bindparam("offset", type_=BigInteger),
)
# Run on the driver connection (``database.Statement``): every write of every service ends with it.
_FLUSH = Statement(text(f"WITH {flush_ctes()} SELECT 1").bindparams(*FLUSH_TYPES))


def feed_horizon() -> ColumnElement[int]:
    """Event ids below this are final: their transaction and every one before it has ended."""
    return literal_column(f"(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << {POSITION_BITS})")


def record_change(
    session: AsyncSession,
    principal: Principal,
    *,
    action: str,
    resource: str,
    resource_id: str,
    region: str,
    data: dict[str, Any],
    late: bool = False,
) -> None:
    """Queue the audit row and the event; ``flush_events`` writes both, in bulk, just before commit.
    ``late``: ``data`` is completed by the statement that writes it (``flush_ctes``)."""
    session.info.setdefault(PENDING_AUDIT, []).append(
        {
            "service": session.info.get("service", "-"),
            "sub": principal.sub,
            "role": principal.role,
            "action": action,
            "resource": resource,
            "resource_id": resource_id,
            "region": region,
            "request_id": session.info.get("request_id", "-"),
        }
    )
    event: dict[str, Any] = {
        "type": f"{resource}.{action}",
        "resource": resource,
        "resource_id": resource_id,
        "region": region,
        "data": data,
    }
    if late:
        event["late"] = True
    session.info.setdefault(PENDING, []).append(event)


def discard_pending(session: AsyncSession) -> None:
    """Forget the queued rows of work that was rolled back (an idempotent request's 4xx)."""
    session.info.pop(PENDING_AUDIT, None)
    session.info.pop(PENDING, None)


def has_pending(session: AsyncSession) -> bool:
    return bool(session.info.get(PENDING_AUDIT) or session.info.get(PENDING))


def take_pending(session: AsyncSession) -> dict[str, Any]:
    """The queued audit rows and events as the parameters of ``flush_ctes`` (then no longer queued)."""
    audit: list[dict[str, Any]] = session.info.pop(PENDING_AUDIT, [])
    pending: list[dict[str, Any]] = session.info.pop(PENDING, [])
    offset: int = session.info.get(WRITTEN, 0)
    if offset + len(pending) > MAX_EVENTS_PER_TRANSACTION:
        raise invalid(
            "TOO_MANY_CHANGES",
            f"一次请求最多记录 {MAX_EVENTS_PER_TRANSACTION} 项变更，请拆分",
            f"One request may record at most {MAX_EVENTS_PER_TRANSACTION} changes; split it",
        )
    session.info[WRITTEN] = offset + len(pending)
    return {"audit": audit, "events": pending, "offset": offset}


async def flush_events(session: AsyncSession) -> None:
    """Write the queued audit rows and events in one statement (any point of the transaction will do:
    nothing here is locked or shared, so ``TransactionalRoute`` calls it just before ``COMMIT``)."""
    if not has_pending(session):
        return
    await _FLUSH.execute(await driver(session), take_pending(session))
