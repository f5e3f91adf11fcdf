"""The shared deny-list of revoked token ids, read from the database and cached briefly."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.models import RevokedToken


class Generation(Protocol):
    """A number that processes sharing a front door move on when one of them revokes a token."""

    def value(self) -> int: ...

    def bump(self) -> None: ...


class RevocationList:
    """Holds every unexpired revoked ``jti``; re-read at most every ``ttl`` seconds.

    The whole set is small (revocations are rare and drop out at ``exp``), so one query refreshes it
    and a lookup costs no I/O. A revocation takes effect everywhere within ``ttl`` seconds.

    One refresh at a time: when the set goes stale under load, the requests that arrive meanwhile
    wait for that one query instead of each taking a pooled connection for the same query (64
    requests in flight once meant 64 identical queries every ``ttl``, queued before the real work).

    With a ``generation`` shared by the gateway's worker processes, a revocation made in one worker
    counts in the others at once: it moves the number on, and a worker that sees a number it has
    not loaded reads the set again before it answers.
    """

    def __init__(self, engine: AsyncEngine, ttl: float = 2.0, generation: Generation | None = None) -> None:
        self.engine = engine
        self.ttl = ttl
        self.generation = generation
        self._jtis: frozenset[str] = frozenset()
        self._loaded_at = float("-inf")
        self._loaded_generation = -1
        self._refreshing = asyncio.Lock()

    def _stale(self) -> bool:
        if self.generation is not None and self.generation.value() != self._loaded_generation:
            return True
        return time.monotonic() - self._loaded_at >= self.ttl

    async def contains(self, jti: str) -> bool:
        if self._stale():
            async with self._refreshing:
                if self._stale():  # not refreshed by the request this one waited behind
                    await self._refresh()
        return jti in self._jtis

    async def _refresh(self) -> None:
        # Read before the query: a revocation committed while it runs is then seen by the next look.
        seen = self.generation.value() if self.generation is not None else -1
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(RevokedToken.jti).where(RevokedToken.expires_at > func.now()))
            self._jtis = frozenset(rows.scalars())
        self._loaded_at, self._loaded_generation = time.monotonic(), seen

    def add(self, jti: str) -> None:
        """This process revoked it (committed): deny it here at once, and tell the other workers."""
        self._jtis = self._jtis | {jti}
        if self.generation is not None:
            self.generation.bump()
