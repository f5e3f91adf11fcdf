"""Where PostgreSQL's CPU per write goes: a new region's statements, PostgreSQL alone, real schema.

    .venv/bin/python bench/write_sql.py [--seconds 4] [--rounds 2]        (also in `make bench`)

``bench/writes.py`` divides a write's rate by raw single-row commits/s (the ceiling). This shows what
PostgreSQL alone spends on each part of a write, so that the share the Python layers may take is
known: it starts `jiuzhu up` in a temporary data directory (the migrated schema and the 16,495
regions; the services stay idle), and runs from 64 asyncpg clients, each one transaction after
another, these steps from raw to the real thing:

1. ``raw``: the yardstick — one row into a two-column table, autocommit;
2. ``region, VALUES``: ``INSERT INTO regions … VALUES … ON CONFLICT (code) DO NOTHING`` (its
   foreign key to the parent and its two secondary indexes), then 3. without ``ON CONFLICT``,
   then 4. into a copy of ``regions`` with its primary key only;
5. the route's own statement (``regions/store.py``'s ``_CREATE``: the parent checked, the region,
   its audit row and its event in one statement) with no audit row or event, then 6. with them — an
   unkeyed ``POST /regions``;
7. a keyed write's five round trips with trivial statements where the key's are (``BEGIN``, an
   advisory lock, ``_CREATE``, ``SELECT 1``, ``COMMIT``), then 8. with the key's own
   (``idempotency.TAKE`` and ``ANSWER``) — a keyed ``POST /regions``.

Each line prints transactions/s, the CPU the PostgreSQL backends and the client process spent per
transaction, and the WAL each wrote (``pg_stat_wal``). Every code is new (townships × suffixes
500–999, as bench/writes.py uses); the scratch tables live in schema ``bench`` and are dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import resource
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import RunningStack, running_stack
from bench.cpu import pg_cpu_seconds
from bench.gateway import townships
from bench.writes import dsn_of
from services.common import idempotency
from services.staffing_api.regions.store import _CREATE

SCRATCH = """
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
CREATE TABLE bench.rows (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
CREATE TABLE bench.regions_pk (LIKE public.regions INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE bench.regions_pk ADD PRIMARY KEY (code);
INSERT INTO bench.regions_pk SELECT * FROM public.regions;
CHECKPOINT;
"""
COLUMNS = ("code", "name", "level", "kind", "parent_code", "directly_administered")
VALUES = f"({', '.join(COLUMNS)}) VALUES ($1, $2, $3, $4, $5, $6)"
SCOPE = {"service": "staffing", "sub": "bench", "method": "POST", "route": "/api/v1/regions"}
Step = Callable[[asyncpg.Connection], Awaitable[None]]


class Codes:
    """New village codes, none used twice in a run: a township's code and a suffix of 500–999."""

    def __init__(self) -> None:
        self.towns = townships()
        self.n = itertools.count()

    def region(self, *, changes: bool = True) -> dict[str, Any]:
        n = next(self.n)
        town, suffix = self.towns[n % len(self.towns)], 500 + n // len(self.towns)
        if suffix > 999:
            raise SystemExit("out of new codes: fewer --seconds or --rounds")
        code = f"{town}{suffix:03d}"
        audit = {"service": "staffing", "sub": "bench", "role": "province_admin", "action": "create",
                 "resource": "region", "resource_id": code, "region": code, "request_id": "0" * 32}  # fmt: skip
        event = {"type": "region.created", "resource": "region", "resource_id": code, "region": code,
                 "data": {"code": code, "name": "bench", "level": "village"}}  # fmt: skip
        return {"code": code, "name": "bench", "level": "village", "kind": "village", "parent_code": town,
                "directly_administered": False, "audit": [audit] if changes else [],
                "events": [event] if changes else [], "offset": 0}  # fmt: skip


def steps(codes: Codes) -> list[tuple[str, Step]]:
    def row(r: dict[str, Any]) -> list[Any]:
        return [r[c] for c in COLUMNS]

    async def raw(c: asyncpg.Connection) -> None:
        await c.execute("INSERT INTO bench.rows (v) VALUES ($1)", "x")

    async def values(c: asyncpg.Connection) -> None:
        await c.execute(f"INSERT INTO regions {VALUES} ON CONFLICT (code) DO NOTHING", *row(codes.region()))

    async def values_no_conflict(c: asyncpg.Connection) -> None:
        await c.execute(f"INSERT INTO regions {VALUES}", *row(codes.region()))

    async def values_pk_only(c: asyncpg.Connection) -> None:
        await c.execute(f"INSERT INTO bench.regions_pk {VALUES}", *row(codes.region()))

    async def create_alone(c: asyncpg.Connection) -> None:
        await c.fetchrow(_CREATE.sql, *_CREATE.args(codes.region(changes=False)))

    async def create(c: asyncpg.Connection) -> None:
        await c.fetchrow(_CREATE.sql, *_CREATE.args(codes.region()))

    async def keyed_trivial(c: asyncpg.Connection) -> None:
        region = codes.region()
        await c.execute("BEGIN")
        await c.fetchrow("SELECT pg_try_advisory_xact_lock($1)", hash(region["code"]))
        await c.fetchrow(_CREATE.sql, *_CREATE.args(region))
        await c.fetchrow("SELECT 1")
        await c.execute("COMMIT")

    async def keyed(c: asyncpg.Connection) -> None:
        region = codes.region()
        scope = {**SCOPE, "key": "bench-" + region["code"]}
        body = f'{{"code":"{region["code"]}","name":"bench","level":"village","kind":"village"}}'.encode()
        answer = {**scope, "request_hash": "0" * 64, "response_status": 201, "response_body": body,
                  "response_headers": {"content-type": "application/json",
                                       "location": f"/api/v1/regions/{region['code']}"}}  # fmt: skip
        await c.execute("BEGIN")
        await c.fetchrow(
            idempotency.TAKE.sql, *idempotency.TAKE.args({**scope, "lock": idempotency.lock_key(scope)})
        )
        await c.fetchrow(_CREATE.sql, *_CREATE.args(region))
        await c.fetchrow(idempotency.ANSWER.sql, *idempotency.ANSWER.args(answer))
        await c.execute("COMMIT")

    return [
        ("1 raw single-row INSERT", raw),
        ("2 region, VALUES + ON CONFLICT", values),
        ("3 region, VALUES", values_no_conflict),
        ("4 region, VALUES, no FK/indexes", values_pk_only),
        ("5 _CREATE, no audit/event", create_alone),
        ("6 _CREATE (unkeyed write)", create),
        ("7 keyed, trivial key statements", keyed_trivial),
        ("8 keyed (TAKE, _CREATE, ANSWER)", keyed),
    ]


async def _wal(dsn: str) -> tuple[int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow("SELECT wal_records, wal_bytes FROM pg_stat_wal")
    finally:
        await conn.close()
    assert row is not None  # the view has one row
    return int(row[0]), int(row[1])


async def measure(stack: RunningStack, step: Step, clients: int, seconds: float) -> tuple[float, ...]:
    """(transactions/s, PostgreSQL µs, client µs, WAL records, WAL bytes) per transaction."""
    dsn = dsn_of(stack)
    conns = [await asyncpg.connect(dsn) for _ in range(clients)]
    done = 0

    async def loop(conn: asyncpg.Connection, until: float) -> None:
        nonlocal done
        while time.monotonic() < until:
            await step(conn)
            done += 1

    wal0, pg0, me0 = await _wal(dsn), pg_cpu_seconds(stack), resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    await asyncio.gather(*(loop(c, started + seconds) for c in conns))
    elapsed = time.monotonic() - started
    wal1, pg1, me1 = await _wal(dsn), pg_cpu_seconds(stack), resource.getrusage(resource.RUSAGE_SELF)
    for conn in conns:
        await conn.close()
    n = max(1, done)
    client = (me1.ru_utime + me1.ru_stime) - (me0.ru_utime + me0.ru_stime)
    return (done / elapsed, (pg1 - pg0) / n * 1e6, client / n * 1e6, (wal1[0] - wal0[0]) / n,
            (wal1[1] - wal0[1]) / n)  # fmt: skip


async def run(stack: RunningStack, args: argparse.Namespace) -> None:
    conn = await asyncpg.connect(dsn_of(stack))
    await conn.execute(SCRATCH)
    await conn.close()
    figures: dict[str, list[tuple[float, ...]]] = defaultdict(list)
    codes = Codes()
    print(
        f"{'round':>5} {'step':<34} {'txn/s':>7} {'PG µs':>6} {'client µs':>9} {'WAL rec':>7} {'WAL bytes':>9}"
    )
    for round_ in range(1, args.rounds + 1):
        for name, step in steps(codes):
            got = await measure(stack, step, args.clients, args.seconds)
            figures[name].append(got)
            print(
                f"{round_:>5} {name:<34} {got[0]:>7.0f} {got[1]:>6.0f} {got[2]:>9.0f} {got[3]:>7.1f} {got[4]:>9.0f}"
            )
    if args.rounds > 1:
        print(f"median over {args.rounds} rounds, {args.clients} clients:")
        for name, runs in figures.items():
            med = [statistics.median(r[i] for r in runs) for i in range(5)]
            print(
                f"      {name:<34} {med[0]:>7.0f} {med[1]:>6.0f} {med[2]:>9.0f} {med[3]:>7.1f} {med[4]:>9.0f}"
            )
    conn = await asyncpg.connect(dsn_of(stack))
    await conn.execute("DROP SCHEMA bench CASCADE")
    await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="duration of each step's run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=64)
    args = parser.parse_args()
    print(f"PostgreSQL alone, {args.clients} asyncpg clients, {args.seconds:g} s per step; real schema")
    with running_stack({}) as stack:
        asyncio.run(run(stack, args))


if __name__ == "__main__":
    main()
