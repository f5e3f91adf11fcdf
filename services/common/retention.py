"""Retention: stored ``Idempotency-Key`` answers are kept ``idempotency_keep_days`` (at least 7) and then
removed, so the table does not grow for ever and an expired key runs again.

Each service purges its own rows from a background task, every ``retention_interval_seconds``, in
batches of ``BATCH`` rows, each batch its own short transaction that skips rows a writer holds
(``FOR UPDATE SKIP LOCKED``): it never waits for a writer and a writer never waits long for it
(``concurrency.py``). Several worker processes of one service may run it at once; they skip each other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

BATCH = 1000
log = logging.getLogger("jiuzhu.retention")

_PURGE = text("""
    DELETE FROM idempotency_keys WHERE id IN (
        SELECT id FROM idempotency_keys
        WHERE service = :service AND created_at < :cutoff
        ORDER BY id LIMIT :batch FOR UPDATE SKIP LOCKED)""")


async def purge_idempotency(engine: AsyncEngine, *, service: str, now: datetime, keep_days: int) -> int:
    """Remove ``service``'s keys stored before ``now − keep_days``; the number removed."""
    cutoff = now - timedelta(days=keep_days)
    removed = 0
    while True:
        async with engine.begin() as conn:
            batch = (
                await conn.execute(_PURGE, {"service": service, "cutoff": cutoff, "batch": BATCH})
            ).rowcount
        removed += batch
        if batch < BATCH:
            return removed


async def run_forever(
    engine: AsyncEngine, *, service: str, keep_days: int, interval: float, clock: Callable[[], datetime]
) -> None:
    """The background task: purge, sleep, again. A failure (the database restarting) is logged and
    retried at the next interval, never fatal to the service."""
    while True:
        try:
            removed = await purge_idempotency(engine, service=service, now=clock(), keep_days=keep_days)
            if removed:
                log.info("removed %d idempotency keys older than %d days", removed, keep_days)
        except Exception:  # the next round tries again
            log.warning("idempotency retention failed; retrying in %.0f s", interval, exc_info=True)
        await asyncio.sleep(interval)
