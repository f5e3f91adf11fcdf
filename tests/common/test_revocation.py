"""The deny-list cache: one refresh at a time, however many requests find it stale."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.auth.revocation import RevocationList
from services.common.models import RevokedToken


async def test_stale_list_is_refreshed_once_for_all_waiting_requests(engine: AsyncEngine) -> None:
    queries: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SELECT") and "revoked_tokens" in statement:
            queries.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    revoked = RevocationList(engine, ttl=60)
    async with engine.begin() as conn:
        await conn.execute(
            insert(RevokedToken).values(jti="gone", expires_at=datetime.now(UTC) + timedelta(hours=1))
        )
    answers = await asyncio.gather(*(revoked.contains("gone" if i % 2 else "fine") for i in range(50)))
    assert answers == [bool(i % 2) for i in range(50)]
    assert len(queries) == 1
    # Within the ttl nothing is read again; a revocation made here is denied at once regardless.
    revoked.add("new")
    assert await revoked.contains("new") and len(queries) == 1
