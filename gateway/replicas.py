"""Several addresses per service (``JIUZHU_UPSTREAM_STAFFING=http://a:8001,http://b:8004``): the
gateway takes them in turn, and passively watches their health — a replica a request could not
reach, or that dropped the connection, is passed over for ``eject_seconds`` (its turn goes to the
others; it is still tried last, so a service whose every replica failed recently is not refused
outright). Nothing probes: the next request that reaches it brings it back.

The clock is a parameter, so the schedule is tested without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def parse(setting: str) -> list[str]:
    """The addresses of one service from its setting: comma-separated, trailing slashes dropped."""
    bases = [part.strip().rstrip("/") for part in setting.split(",") if part.strip()]
    if not bases:
        raise ValueError("an upstream needs at least one address")
    return bases


class Replicas:
    def __init__(
        self, bases: list[str], eject_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.bases, self.eject_seconds, self.clock = bases, eject_seconds, clock
        self._next = 0
        self._ejected_until: dict[str, float] = {}

    def order(self) -> list[str]:
        """Every replica once for one request: from the next in turn, the healthy ones first."""
        n = len(self.bases)
        start, self._next = self._next, (self._next + 1) % n
        turn = [self.bases[(start + i) % n] for i in range(n)]
        now = self.clock()
        healthy = [b for b in turn if self._ejected_until.get(b, 0.0) <= now]
        return healthy + [b for b in turn if b not in healthy]

    def failed(self, base: str) -> None:
        self._ejected_until[base] = self.clock() + self.eject_seconds

    def answered(self, base: str) -> None:
        self._ejected_until.pop(base, None)

    def ejected(self) -> list[str]:
        now = self.clock()
        return [b for b, until in self._ejected_until.items() if until > now]
