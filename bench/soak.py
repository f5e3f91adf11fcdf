"""Soak: a province's day in miniature, at a fixed rate, against `jiuzhu up` (embedded PostgreSQL,
demo data), through the gateway.

    .venv/bin/python bench/soak.py [--minutes 10] [--scale 1.0]

Traffic, each kind on its own schedule (requests per second at ``--scale 1``):

- portal reads: the province's quota summary, 五华区's summary, the county's contracts (4/s);
- mobile work-log batches from the demo county's dispatched workers: 10 logs a batch, one batch in
  ten sent twice (a phone that never saw the answer), and every failed send retried with the same
  client ids (1.5/s);
- county writes: a violation created and confirmed in one step (0.5/s), and the contract's next
  monthly payment — each sent twice, the second must answer the first (1/20 s);
- an agency polling the change feed (`GET /events?after=N`) once a second.

It prints, per endpoint, requests, errors (anything but 2xx and 429 — must be 0), 429s and
p50/p99; the resident memory of every process of the stack at the start and the end; PostgreSQL's
connections (sampled); and whether the feed consumer received every event exactly once, in order
(checked against the events table at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import RunningStack, running_stack

COUNTY, PREFECTURE = "530102", "5301"
SERVICE_SCOPES = "staffing:read contracts:read penalties:read events:read"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    limited: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, seconds: float, status: int, text: str) -> None:
        self.latencies.append(seconds)
        if status == 429:
            self.limited += 1
        elif not 200 <= status < 300:
            self.errors += 1
            if len(self.examples) < 3:
                self.examples.append(f"{status} {text[:160]}")


class Soak:
    def __init__(self, stack: RunningStack, client: httpx.AsyncClient, until: float, scale: float) -> None:
        self.stack, self.client, self.until, self.scale = stack, client, until, scale
        self.tally: dict[str, Tally] = defaultdict(Tally)
        self.province = self.headers("province_admin", "53", "soak-province")
        self.county = self.headers("county_official", COUNTY, "soak-county")
        self.feed_ids: list[int] = []

    def headers(
        self, role: str, region: str, sub: str, org_id: str | None = None, scope: str | None = None
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.stack.token(role, region, sub, org_id, scope)}"}

    async def call(self, name: str, method: str, url: str, **kw: Any) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            r = await self.client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            self.tally[name].add(time.perf_counter() - started, 599, type(exc).__name__)
            return None
        self.tally[name].add(time.perf_counter() - started, r.status_code, r.text)
        return r

    async def every(self, period: float, work: Any) -> None:
        """Start ``work`` every ``period`` seconds (scaled) without waiting for it: a fixed rate."""
        period /= self.scale
        tasks: set[asyncio.Task[None]] = set()
        next_at = time.monotonic()
        while next_at < self.until:
            task = asyncio.create_task(work())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.gather(*tasks)

    # -- the kinds of traffic ------------------------------------------------------------------

    async def portal(self) -> None:
        await asyncio.gather(
            self.call("GET /quota-summary/53", "GET", "/api/v1/quota-summary/53", headers=self.province),
            self.call(
                "GET /quota-summary/530102", "GET", f"/api/v1/quota-summary/{COUNTY}", headers=self.county
            ),
            self.call("GET /contracts", "GET", "/api/v1/contracts", headers=self.county),
            self.call(
                "GET /contracts",
                "GET",
                "/api/v1/contracts",
                params={"region": PREFECTURE},
                headers=self.province,
            ),
        )

    async def mobile(self, worker: dict[str, Any], org: str) -> None:
        headers = self.headers("worker", worker["region_code"], str(worker["person_id"]), org_id=org)
        today = datetime.now(UTC).date()
        items = [
            {"client_id": str(uuid.uuid4()), "dispatch_id": worker["id"], "duty_code": "application_assistance",
             "date": str(today - timedelta(days=i % 5)), "program": "dibao", "quantity": 1 + i % 3}
            for i in range(10)
        ]  # fmt: skip
        sends = 2 if uuid.uuid4().int % 10 == 0 else 1
        for _ in range(sends):
            for _attempt in range(3):  # a weak connection: resend the very same batch
                r = await self.call("POST /work-logs/batch", "POST", "/api/v1/work-logs/batch",
                                    json={"items": items}, headers=headers)  # fmt: skip
                if r is not None and r.status_code == 200:
                    break
                await asyncio.sleep(0.5)

    async def violation(self, dispatch: int) -> None:
        today = datetime.now(UTC).date()
        body = {"dispatch_id": dispatch, "kind": "falsification", "occurred_on": str(today - timedelta(days=3)),
                "discovered_on": str(today), "description": "台账与入户记录不符", "multiplier": "1"}  # fmt: skip
        await self.call("POST /violations", "POST", "/api/v1/violations", json=body,
                        headers={**self.county, "Idempotency-Key": str(uuid.uuid4())})  # fmt: skip

    async def payments(self, contract: int, periods: list[str]) -> None:
        period = periods.pop(0) if periods else None
        if period is None:
            return
        body = {"period": period, "gross_amount": "8550.00"}
        first = await self.call("POST /contracts/{id}/payments", "POST", f"/api/v1/contracts/{contract}/payments",
                                json=body, headers=self.county)  # fmt: skip
        again = await self.call("POST /contracts/{id}/payments", "POST", f"/api/v1/contracts/{contract}/payments",
                                json=body, headers=self.county)  # fmt: skip
        if first is not None and again is not None and first.status_code < 300 and again.status_code < 300:
            assert again.json()["id"] == first.json()["id"], "a payment sent twice became two"

    async def feed(self) -> None:
        agency = self.headers("service", "53", "soak-agency", scope=SERVICE_SCOPES)
        after = 0
        while time.monotonic() < self.until + 3:  # a last look once the writers have stopped
            r = await self.call("GET /events", "GET", "/api/v1/events", params={"after": after, "limit": 500},
                                headers=agency)  # fmt: skip
            if r is not None and r.status_code == 200:
                for event in r.json()["items"]:
                    self.feed_ids.append(int(event["id"]))
                    after = int(event["id"])
                if len(r.json()["items"]) == 500:
                    continue
            await asyncio.sleep(1.0)


def postmaster(stack: RunningStack) -> psutil.Process | None:
    """The embedded PostgreSQL (pgserver starts it detached, not as a child of `jiuzhu up`)."""
    pid_file = stack.data_dir / "pg" / "postmaster.pid"
    try:
        return psutil.Process(int(pid_file.read_text().split()[0]))
    except (OSError, ValueError, psutil.Error):
        return None


def describe(p: psutil.Process) -> str:
    try:
        cmd = " ".join(p.cmdline())
    except psutil.Error:
        return f"pid {p.pid}"
    for name in ("staffing_api", "contract_api", "penalty_api", "gateway"):
        if f"{name}.app" in cmd or (name == "gateway" and "gateway.app" in cmd):
            return name
    return "jiuzhu up" if "jiuzhu.cli" in cmd else cmd[:40]


def _rss(p: psutil.Process) -> float:
    """A process and its children (a service's uvicorn parent and its worker processes), MiB."""
    try:
        return float(sum(q.memory_info().rss for q in [p, *p.children(recursive=True)]) / 2**20)
    except psutil.Error:
        return 0.0


def memory(stack: RunningStack) -> dict[str, float]:
    """Resident MiB per process of the stack, workers counted with their service."""
    root = psutil.Process(stack.pid)
    out: dict[str, float] = defaultdict(float)
    out["jiuzhu up"] = root.memory_info().rss / 2**20
    for child in root.children():
        out[describe(child)] += _rss(child)
    pg = postmaster(stack)
    if pg is not None:
        out["postgres (all backends)"] = _rss(pg)
    return dict(out)


def pg_connections(stack: RunningStack) -> int:
    """PostgreSQL's client backends (one process per connection: "postgres: user db [local] idle")."""
    pg = postmaster(stack)
    if pg is None:
        return 0
    count = 0
    for p in pg.children():
        try:
            cmd = " ".join(p.cmdline())
        except psutil.Error:
            continue
        count += "[local]" in cmd or "127.0.0.1" in cmd
    return count


def months_from(start: date, n: int) -> list[str]:
    return [
        f"{start.year + (start.month - 1 + i) // 12:04d}-{(start.month - 1 + i) % 12 + 1:02d}"
        for i in range(n)
    ]


async def run(stack: RunningStack, minutes: float, scale: float) -> int:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30, limits=limits) as client:
        soak = Soak(stack, client, time.monotonic() + minutes * 60, scale)
        dispatches = (
            await client.get("/api/v1/dispatches", params={"limit": 50}, headers=soak.county)
        ).json()
        contract = dispatches["items"][0]["contract_id"]
        org = str(
            (await client.get(f"/api/v1/contracts/{contract}", headers=soak.county)).json()["contractor_id"]
        )
        start = date.fromisoformat(
            (await client.get(f"/api/v1/contracts/{contract}", headers=soak.county)).json()["start_date"]
        )
        periods = months_from(start, 36)
        before = memory(stack)
        samples: list[int] = []

        async def sample() -> None:
            samples.append(pg_connections(stack))

        workers = dispatches["items"]
        jobs = [
            soak.every(1.0, soak.portal),
            *(soak.every(2.0, lambda w=w: soak.mobile(w, org)) for w in workers),
            soak.every(2.0, lambda: soak.violation(workers[0]["id"])),
            soak.every(20.0, lambda: soak.payments(contract, periods)),
            soak.every(5.0, sample),
            soak.feed(),
        ]
        began = time.monotonic()
        await asyncio.gather(*jobs)
        elapsed = time.monotonic() - began
        after = memory(stack)
        events = await all_event_ids(client, soak)
    return report(soak, elapsed, before, after, samples, events)


async def all_event_ids(client: httpx.AsyncClient, soak: Soak) -> list[int]:
    """Every event id the feed holds now, read once more from the start by a fresh consumer."""
    agency = soak.headers("service", "53", "soak-audit", scope=SERVICE_SCOPES)
    ids: list[int] = []
    after = 0
    while True:
        r = await client.get("/api/v1/events", params={"after": after, "limit": 500}, headers=agency)
        items = r.json()["items"]
        if not items:
            return ids
        ids += [int(e["id"]) for e in items]
        after = ids[-1]


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(
    soak: Soak,
    elapsed: float,
    before: dict[str, float],
    after: dict[str, float],
    samples: list[int],
    events: list[int],
) -> int:
    print(f"\nSoak: {elapsed / 60:.1f} min at scale {soak.scale:g}\n")
    print(
        "| endpoint | requests | errors | 429 | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: | ---: | ---: |"
    )
    errors = 0
    for name, t in sorted(soak.tally.items()):
        errors += t.errors
        print(
            f"| {name} | {len(t.latencies)} | {t.errors} | {t.limited} | {pct(t.latencies, 0.5):.1f} | {pct(t.latencies, 0.99):.1f} |"
        )
    for name, t in soak.tally.items():
        for example in t.examples:
            print(f"  error on {name}: {example}")
    print("\n| process | RSS at start MiB | RSS at end MiB |\n| --- | ---: | ---: |")
    for name in sorted(set(before) | set(after)):
        print(f"| {name} | {before.get(name, 0):.0f} | {after.get(name, 0):.0f} |")
    if samples:
        print(f"\nPostgreSQL connections (client backends, sampled every 5 s): min {min(samples)}, "
              f"median {statistics.median(samples):.0f}, max {max(samples)}")  # fmt: skip
    seen = soak.feed_ids
    in_order = all(a < b for a, b in itertools.pairwise(seen))
    exactly_once = len(seen) == len(set(seen)) and set(seen) == set(events)
    print(f"\nChange feed: {len(seen)} events received live, {len(events)} in the feed at the end; "
          f"in order: {in_order}; every event exactly once: {exactly_once}")  # fmt: skip
    ok = errors == 0 and in_order and exactly_once
    print("\nresult:", "OK" if ok else "FAILED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run (default 10)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every rate by this")
    args = parser.parse_args()
    with running_stack() as stack:
        return asyncio.run(run(stack, args.minutes, args.scale))


if __name__ == "__main__":
    raise SystemExit(main())
