"""Audit rows and change-feed events, written in the same transaction as the change they record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth.tokens import Principal
from services.common.models import AuditEvent, Event, EventCounter

PENDING = "jiuzhu.pending_events"
PENDING_AUDIT = "jiuzhu.pending_audit"


def record_change(
    session: AsyncSession,
    principal: Principal,
    *,
    action: str,
    resource: str,
    resource_id: str,
    region: str,
    data: dict[str, Any],
) -> None:
    """Queue the audit row and the event; ``flush_events`` writes both, in bulk, just before commit."""
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
    session.info.setdefault(PENDING, []).append(
        {
            "type": f"{resource}.{action}",
            "resource": resource,
            "resource_id": resource_id,
            "region": region,
            "data": data,
        }
    )


async def flush_events(session: AsyncSession) -> None:
    """Write the queued audit rows, then number the queued events from the counter row and insert them.

    Called as the transaction's last statement: the counter row stays locked until commit, so
    event ids are handed out in commit order and a feed reader never sees an id appear behind it.
    """
    audit: list[dict[str, Any]] = session.info.pop(PENDING_AUDIT, [])
    if audit:
        await session.execute(insert(AuditEvent), audit)  # one executemany, not one ORM object each
    pending: list[dict[str, Any]] = session.info.pop(PENDING, [])
    if not pending:
        return
    last = (
        await session.execute(
            update(EventCounter)
            .where(EventCounter.id == 1)
            .values(last_id=EventCounter.last_id + len(pending))
            .returning(EventCounter.last_id)
        )
    ).scalar_one()
    first = last - len(pending) + 1
    await session.execute(insert(Event), [{"id": first + i, **e} for i, e in enumerate(pending)])
