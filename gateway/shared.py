"""What the gateway's worker processes share: files in one directory, mapped into every worker.

The gateway runs several worker processes on one socket, as the services do (`jiuzhu up --workers`),
so that the front door uses the machine's cores: one process answers about 1,100–1,300 requests a
second here, whatever the cores (bench/README.md, the floor). A limit must hold across them all,
or a client whose connections land on two workers would get twice its rate. So each limit is a
table in a file that every worker maps into memory. A worker takes the file's lock (``flock``) for
the few microseconds a request's look-up takes. The kernel releases the lock of a process that
dies, so a killed worker never leaves the others waiting. The same goes for the number that says
another worker revoked a token.

Without a directory (``JIUZHU_GATEWAY_SHARED_DIR`` unset: one process, and the tests that build
gateways in-process) the limits stay in the process's memory (``limits.TokenBuckets``).
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import shutil
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway.limits import Buckets, TokenBuckets, take_one

# One bucket: the key's 64-bit digest (0: an empty slot), its tokens, and when it was last taken from
# (``time.monotonic``: one clock for every process on the machine).
_SLOT = struct.Struct("=Qdd")
_COUNTER = struct.Struct("=Q")


class MappedFile:
    """A file of ``size`` bytes mapped into this process, with a lock every mapping process shares.
    It stays mapped for the life of the worker: the kernel unmaps it, and frees its lock, on exit."""

    def __init__(self, path: Path, size: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        with self.locked_fd():  # the first worker sizes it; the zeros are empty slots
            if os.fstat(self.fd).st_size < size:
                os.ftruncate(self.fd, size)
        self.map = mmap.mmap(self.fd, size)

    @contextmanager
    def locked_fd(self) -> Iterator[None]:
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    @contextmanager
    def locked(self) -> Iterator[mmap.mmap]:
        with self.locked_fd():
            yield self.map


class SharedTokenBuckets:
    """``limits.TokenBuckets`` with its buckets in a file that every worker maps.

    The table has ``slots`` buckets. A key lives in the first of ``probe`` slots from its home slot
    that holds it or is empty. When all of them hold other keys, the one taken from longest ago is
    forgotten, and the new key starts with a full bucket, as a key the in-memory LRU forgot does. A
    bucket whose bytes make no sense (a worker killed while writing its 24 bytes, or a clock that
    restarted with the machine) also starts full again."""

    def __init__(
        self,
        path: Path,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        slots: int = 1 << 17,
        probe: int = 8,
    ) -> None:
        if slots & (slots - 1) or not 1 <= probe <= slots:
            raise ValueError("slots must be a power of two, and probe between 1 and slots")
        self.rate, self.burst, self.clock = rate, burst, clock
        self.slots, self.probe = slots, probe
        self.file = MappedFile(path, slots * _SLOT.size)

    def take(self, key: str) -> float:
        """0 when the request may pass; else the seconds until it could (for ``Retry-After``)."""
        # Python's hash() differs from process to process; BLAKE2 is the same in every worker.
        digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") or 1
        home = digest & (self.slots - 1)
        with self.file.locked() as table:
            # Read under the lock: a time taken before it could be older than the ``last`` another
            # worker wrote while this one waited, and that bucket would look like nonsense (full).
            now = self.clock()
            at, tokens, last = self._slot(table, digest, home, now)
            tokens, wait = take_one(tokens, last, now, self.rate, self.burst)
            _SLOT.pack_into(table, at, digest, tokens, now)
        return wait

    def _slot(self, table: mmap.mmap, digest: int, home: int, now: float) -> tuple[int, float, float]:
        """(offset, tokens, last) of the key's bucket: its own, an empty one, or the stalest in reach."""
        stalest: tuple[float, int] | None = None
        for i in range(self.probe):
            at = ((home + i) & (self.slots - 1)) * _SLOT.size
            held, tokens, last = _SLOT.unpack_from(table, at)
            if held == digest:
                return at, tokens, last
            if held == 0:
                return at, float(self.burst), now
            if stalest is None or last < stalest[0]:
                stalest = (last, at)
        assert stalest is not None  # noqa: S101 - probe >= 1
        return stalest[1], float(self.burst), now


class SharedCounter:
    """A number every worker reads without a lock and moves on under the file's lock."""

    def __init__(self, path: Path) -> None:
        self.file = MappedFile(path, _COUNTER.size)

    def value(self) -> int:
        # An aligned 8-byte read: a worker never sees half of another's write on the machines we run on,
        # and if it did, it would only refresh once more than needed.
        return int(_COUNTER.unpack_from(self.file.map, 0)[0])

    def bump(self) -> None:
        with self.file.locked() as counter:
            _COUNTER.pack_into(counter, 0, (_COUNTER.unpack_from(counter, 0)[0] + 1) % (1 << 64))


def buckets(shared_dir: Path | None, name: str, rate: float, burst: int) -> Buckets:
    """The limit ``name``: in the workers' shared directory when there is one, else in memory."""
    if shared_dir is None:
        return TokenBuckets(rate, burst)
    return SharedTokenBuckets(shared_dir / f"{name}.buckets", rate, burst)


def fresh_directory(path: Path) -> dict[str, str]:
    """An empty ``path`` for what the gateway's workers share, and the environment that points them
    (and prometheus-client's multiprocess mode) to it. `jiuzhu up` makes one each time it starts, so
    limits start full and metrics from zero; a gateway the supervisor restarts keeps both
    (prometheus-client keeps summing the files a dead worker left)."""
    shutil.rmtree(path, ignore_errors=True)
    (path / "metrics").mkdir(parents=True)
    return {"JIUZHU_GATEWAY_SHARED_DIR": str(path), "PROMETHEUS_MULTIPROC_DIR": str(path / "metrics")}
