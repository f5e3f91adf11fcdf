"""The gateway's worker processes share one set of limits and revocations (gateway/shared.py)."""

from __future__ import annotations

import struct
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.limits import Buckets, TokenBuckets
from gateway.shared import SharedCounter, SharedTokenBuckets, buckets
from services.common.auth.revocation import RevocationList
from services.common.models import RevokedToken


class Ticks:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make(kind: str, tmp_path: Path, ticks: Ticks, **table: int) -> Buckets:
    if kind == "memory":
        return TokenBuckets(rate=20, burst=40, clock=ticks)
    return SharedTokenBuckets(tmp_path / "t.buckets", rate=20, burst=40, clock=ticks, **table)


@pytest.mark.parametrize("kind", ["memory", "shared"])
def test_both_kinds_of_bucket_answer_alike(kind: str, tmp_path: Path) -> None:
    ticks = Ticks()
    bucket = make(kind, tmp_path, ticks)
    assert [bucket.take("a") for _ in range(40)] == [0.0] * 40
    assert bucket.take("a") == pytest.approx(0.05)
    assert bucket.take("b") == 0.0  # one bucket per key
    ticks.t += 0.05
    assert bucket.take("a") == 0.0
    assert bucket.take("a") > 0
    ticks.t += 10
    assert [bucket.take("a") for _ in range(40)] == [0.0] * 40  # refills up to the burst, not beyond
    assert bucket.take("a") > 0


def test_no_directory_means_memory(tmp_path: Path) -> None:
    assert isinstance(buckets(None, "x", 1, 1), TokenBuckets)
    shared = buckets(tmp_path, "x", 1, 1)
    assert isinstance(shared, SharedTokenBuckets) and (tmp_path / "x.buckets").exists()


TAKE_MANY = """
import sys
from pathlib import Path
from gateway.shared import SharedTokenBuckets
b = SharedTokenBuckets(Path(sys.argv[1]), rate=1e-9, burst=500)
print(sum(b.take("alice") == 0.0 for _ in range(400)))
"""


def test_two_processes_share_one_burst(tmp_path: Path) -> None:
    """A limit of 500 holds across workers: two processes taking 400 each at once let 500 through in
    all (a worker's clock read before it waited for the lock once made the bucket look new)."""
    path = tmp_path / "per-sub.buckets"
    procs = [
        subprocess.Popen(  # noqa: S603 - this interpreter
            [sys.executable, "-c", TAKE_MANY, str(path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    passed = [int(p.communicate(timeout=60)[0]) for p in procs]
    assert sum(passed) == 500, passed
    again = SharedTokenBuckets(path, rate=1e-9, burst=500)
    assert again.take("alice") > 0  # a third worker joining sees the bucket empty
    assert again.take("bob") == 0.0


def test_a_full_window_forgets_the_key_taken_from_longest_ago(tmp_path: Path) -> None:
    ticks = Ticks()
    table = SharedTokenBuckets(tmp_path / "t.buckets", rate=1e-9, burst=2, clock=ticks, slots=4, probe=4)
    for key in ("a", "b", "c", "d"):  # every slot taken, each key's bucket empty
        ticks.t += 1
        assert [table.take(key) for _ in range(2)] == [0.0, 0.0]
        assert table.take(key) > 0
    ticks.t += 1
    assert table.take("e") == 0.0  # took "a"'s slot: "a" was taken from longest ago
    assert [table.take("a") for _ in range(2)] == [0.0, 0.0]  # forgotten: full again (took "b"'s)
    assert table.take("c") > 0 and table.take("d") > 0 and table.take("e") == 0.0


@pytest.mark.parametrize(
    ("tokens", "last"),
    [(float("nan"), 100.0), (-1.0, 100.0), (41.0, 100.0), (0.0, 200.0)],
    ids=["nan", "negative", "above-burst", "last-after-now"],
)
def test_a_bucket_that_makes_no_sense_starts_full(tokens: float, last: float, tmp_path: Path) -> None:
    ticks = Ticks(100.0)
    path = tmp_path / "t.buckets"
    table = SharedTokenBuckets(path, rate=1e-9, burst=40, clock=ticks, slots=1, probe=1)
    assert table.take("a") == 0.0
    digest = struct.unpack_from("=Q", path.read_bytes(), 0)[0]
    path.write_bytes(struct.pack("=Qdd", digest, tokens, last))  # a torn write, a restarted clock
    assert [table.take("a") for _ in range(40)] == [0.0] * 40
    assert table.take("a") > 0


@pytest.mark.parametrize(("slots", "probe"), [(6, 4), (8, 0), (8, 9)])
def test_the_table_shape_is_checked(slots: int, probe: int, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="power of two"):
        SharedTokenBuckets(tmp_path / "t", rate=1, burst=1, slots=slots, probe=probe)
    assert SharedTokenBuckets(tmp_path / "u", rate=1, burst=1, slots=8, probe=8).take("a") == 0.0


async def test_a_revocation_in_one_worker_counts_in_the_others_at_once(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Two workers with an hour-long cache: the one that did not revoke reads the set again at once."""
    revoking = RevocationList(engine, ttl=3600, generation=SharedCounter(tmp_path / "revocations"))
    other = RevocationList(engine, ttl=3600, generation=SharedCounter(tmp_path / "revocations"))
    alone = RevocationList(engine, ttl=3600)  # no shared number: waits for its cache
    jti = uuid.uuid4().hex
    for worker in (revoking, other, alone):
        assert not await worker.contains(jti)  # each has loaded the set once
    async with engine.begin() as conn:
        expires = datetime.now(UTC) + timedelta(hours=1)
        await conn.execute(insert(RevokedToken).values(jti=jti, expires_at=expires))
    revoking.add(jti)
    assert await revoking.contains(jti)
    assert await other.contains(jti)
    assert not await alone.contains(jti)
