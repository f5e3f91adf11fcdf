"""The shared deny-list of revoked token ids, read from the database and cached briefly."""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.models import RevokedToken


class RevocationList:
    """Holds every unexpired revoked ``jti``; re-read at most every ``ttl`` seconds.

    The whole set is small (revocations are rare and drop out at ``exp``), so one query refreshes it
    and a lookup costs no I/O. A revocation takes effect everywhere within ``ttl`` seconds.
    """

    def __init__(self, engine: AsyncEngine, ttl: float = 2.0) -> None:
        self.engine = engine
        self.ttl = ttl
        self._jtis: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")

    async def contains(self, jti: str) -> bool:
        if time.monotonic() - self._loaded_at >= self.ttl:
            async with self.engine.connect() as conn:
                rows = await conn.execute(
                    select(RevokedToken.jti).where(RevokedToken.expires_at > func.now())
                )
                self._jtis = frozenset(rows.scalars())
            self._loaded_at = time.monotonic()
        return jti in self._jtis

    def add(self, jti: str) -> None:
        """This process revoked it: deny it here at once, without waiting for the next refresh."""
        self._jtis = self._jtis | {jti}
