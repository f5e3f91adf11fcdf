"""Spreadsheet exports and policy simulation through the gateway.

    .venv/bin/python bench/exports.py [--calls 20]

Starts `jiuzhu up` (one worker process per service, so one process serves every export and its memory
can be read) in a temporary data directory with all 16,495 units and their demo figures, then, one at
a time: every unit quota of a prefecture and of the whole province as JSON pages (500 a page, all
pages), as CSV and as XLSX — seconds, rows/s, and the serving process's peak resident memory above
its resting size, sampled every 10 ms — and `POST /quota-simulations` for the whole province, p50/p95.
Goals (issue 12): CSV ≤ 2× the JSON pages, XLSX ≤ 5 s, memory flat in the row count, simulation
p50 ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import running_stack
from bench.cpu import service_processes
from bench.quota_summary import percentile

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PeakMemory:
    """The largest resident set of ``procs`` while the block runs, in MiB."""

    def __init__(self, procs: list[psutil.Process]) -> None:
        self.procs, self.peak, self._stop = procs, 0.0, threading.Event()

    def rss(self) -> float:
        return float(sum(p.memory_info().rss for p in self.procs) / (1 << 20))

    def __enter__(self) -> PeakMemory:
        self.resting = self.rss()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.thread.join()


def timed(procs: list[psutil.Process], run: Callable[[], int]) -> tuple[float, int, float]:
    with PeakMemory(procs) as memory:
        start = time.perf_counter()
        rows = run()
        seconds = time.perf_counter() - start
    return seconds, rows, memory.peak - memory.resting


def _write(name: str, path: str, n: int) -> None:
    from datetime import date
    from decimal import Decimal

    row = ["530102001001", "village", "2026-12", 1, None, 3400, False, 1, 2, 0, 1, 1, 0, "within_quota"]
    if name.startswith("openpyxl"):
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("q")
        for _ in range(n):
            sheet.append([*row, Decimal("2850.00"), date(2026, 12, 1)])
        book.save(path)
    else:
        import xlsxwriter

        wb = xlsxwriter.Workbook(path, {"constant_memory": True})
        ws = wb.add_worksheet("q")
        for i in range(n):
            ws.write_row(i, 0, [*row, 2850.00, date(2026, 12, 1)])
        wb.close()


def writers(rows: int = 16_478) -> list[tuple[str, float, float]]:
    """openpyxl's write-only workbook against xlsxwriter's constant_memory mode, the same rows (one
    unit quota's 16 cells) to a file, at two sizes: seconds (untraced), then the peak of Python
    allocations in a second, traced run (tracemalloc slows allocation, so it is not timed)."""
    import tempfile
    import tracemalloc

    out = []
    for n in (rows // 4, rows):
        for name in ("openpyxl write-only", "xlsxwriter constant_memory"):
            with tempfile.NamedTemporaryFile(suffix=".xlsx") as f:
                start = time.perf_counter()
                _write(name, f.name, n)
                seconds = time.perf_counter() - start
                tracemalloc.start()
                _write(name, f.name, n)
                peak = tracemalloc.get_traced_memory()[1] / (1 << 20)
                tracemalloc.stop()
            out.append((f"{name} ({n} rows)", seconds, peak))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=20, help="simulation calls (at least 20)")
    args = parser.parse_args()
    env = {"JIUZHU_WORKERS": "1", "JIUZHU_RATE_PER_SUB": "10000", "JIUZHU_BURST_PER_SUB": "10000"}
    with running_stack(env) as stack:
        staffing = service_processes(stack.port + 1)
        h = {"Authorization": f"Bearer {stack.token('province_admin', '53', sub='bench-admin')}"}
        with httpx.Client(base_url=stack.gateway, timeout=300, headers=h) as client:

            def pages(region: str) -> int:
                rows, cursor = 0, None
                while True:
                    params: dict[str, Any] = {"region": region, "limit": 500}
                    if cursor:
                        params["cursor"] = cursor
                    body = client.get("/api/v1/quotas", params=params).raise_for_status().json()
                    rows += len(body["items"])
                    cursor = body["next_cursor"]
                    if cursor is None:
                        return rows

            def sheet(region: str, fmt: str) -> int:
                r = client.get("/api/v1/quotas", params={"region": region, "format": fmt}).raise_for_status()
                if fmt == "csv":
                    return r.content.count(b"\n") - 1
                from io import BytesIO

                from openpyxl import load_workbook

                return int(load_workbook(BytesIO(r.content), read_only=True).worksheets[0].max_row) - 1

            pages("5301")  # warm up: connections, the rule set, the plan cache
            table = []
            for region in ("5301", "53"):
                json_s, rows, json_mib = timed(staffing, lambda r=region: pages(r))  # type: ignore[misc]
                for label, run in (
                    ("JSON pages", None),
                    ("CSV", lambda r=region: sheet(r, "csv")),
                    ("XLSX", lambda r=region: sheet(r, "xlsx")),
                ):
                    s, n, mib = (json_s, rows, json_mib) if run is None else timed(staffing, run)
                    table.append((region, label, n, s, n / s, mib, s / json_s))
            sim = []
            params = client.get("/api/v1/staffing-rule-sets").json()[-1]["parameters"]
            draft = {**params, "village": {**params["village"], "minimum": params["village"]["minimum"] + 1}}
            client.post("/api/v1/quota-simulations", json={"parameters": draft}).raise_for_status()
            for _ in range(max(20, args.calls)):
                t = time.perf_counter()
                client.post("/api/v1/quota-simulations", json={"parameters": draft}).raise_for_status()
                sim.append((time.perf_counter() - t) * 1000)
    print("\nExports of unit quotas through the gateway (one staffing process; memory: peak above resting)")
    print(f"{'region':<7} {'format':<11} {'rows':>7} {'seconds':>8} {'rows/s':>8} {'MiB':>6} {'× JSON':>7}")
    for region, label, n, s, rate, mib, ratio in table:
        print(f"{region:<7} {label:<11} {n:>7} {s:>8.2f} {rate:>8.0f} {mib:>6.1f} {ratio:>7.2f}")
    print(f"\nXLSX writers, offline ({'seconds':>7}, peak MiB of Python allocations)")
    for name, seconds, peak in writers():
        print(f"  {name:<42} {seconds:>7.2f} {peak:>7.1f}")
    print(
        f"\nquota-simulations, whole province, {len(sim)} calls: p50 {percentile(sim, 0.5):.0f} ms, "
        f"p95 {percentile(sim, 0.95):.0f} ms"
    )


if __name__ == "__main__":
    main()
