"""Token buckets per key (a token's ``sub``, a client address) and request-body limits."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

MIB = 1024 * 1024


class Buckets(Protocol):
    def take(self, key: str) -> float:
        """0 when the request may pass; else the seconds until it could (for ``Retry-After``)."""
        ...


def take_one(tokens: float, last: float, now: float, rate: float, burst: int) -> tuple[float, float]:
    """One request from a bucket that held ``tokens`` at ``last``: (tokens left, seconds to wait).

    A bucket that makes no sense (tokens out of range, or last seen after now: a clock that
    restarted) is taken as a full one."""
    if not 0.0 <= tokens <= burst or last > now:
        tokens, last = float(burst), now
    tokens = min(float(burst), tokens + (now - last) * rate)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / rate


class TokenBuckets:
    """``rate`` tokens per second, at most ``burst`` saved up, one bucket per key (least recently
    used keys are forgotten past ``max_keys``: a forgotten key starts again with a full bucket)."""

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """0 when the request may pass; else the seconds until it could (for ``Retry-After``)."""
        now = self.clock()
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens, wait = take_one(tokens, last, now, self.rate, self.burst)
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


def body_limit(path: str, default: int, imports: int) -> int:
    """Spreadsheet imports may be larger than ordinary JSON bodies."""
    return imports if path.rstrip("/").endswith("/import") else default
