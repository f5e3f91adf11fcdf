"""Gateway overhead: the same read and write, straight to staffing_api and through the gateway.

    make bench        (or: .venv/bin/python bench/gateway.py [--seconds 10] [--rounds N] [--baseline REV])

Starts `jiuzhu up` in a temporary data directory (embedded PostgreSQL), raises the per-subject rate
limit for the run, then measures in one run: throughput at 64 connections (the ratio is the figure
that matters on a shared 2-core machine) and p50 at one connection (the latency the gateway adds),
with staffing_api's CPU and the whole machine's per request. With ``--baseline REV`` that revision's
stack runs beside this checkout's and the two take turns, round by round.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import RunningStack, checkout, running_stack
from bench.cpu import CORES, MachineMeter, cpu_seconds, service_processes
from bench.load import Result, generator, run_get, run_post


def townships() -> list[str]:
    path = resources.files("services.staffing_api") / "data" / "yunnan-divisions-2023.csv"
    with path.open(encoding="utf-8") as fh:
        return [r["code"] for r in csv.DictReader(fh) if r["level"] == "township"]


Row = tuple[str, str, int, Result, float, float]  # endpoint, path, conns, result, svc CPU ms, machine CPU ms


def measure(stack: RunningStack, args: argparse.Namespace, towns: list[str], round_: int) -> list[Row]:
    token = stack.token("province_admin", "53", sub="bench")
    read_path = "/api/v1/regions/530102"
    write_path = "/api/v1/regions"
    trivial_path = "/api/v1/regions/x"
    staffing = service_processes(stack.port + 1)
    rows: list[Row] = []

    def timed(endpoint: str, label: str, conns: int, run: Callable[[], Result]) -> None:
        cpu0 = cpu_seconds(staffing)
        with MachineMeter() as machine:
            result = run()
        n = max(1, result.requests)
        rows.append(
            (endpoint, label, conns, result, (cpu_seconds(staffing) - cpu0) / n * 1000,
             machine.result.busy_seconds / n * 1000)
        )  # fmt: skip

    if round_ == 1:
        for base in (stack.staffing, stack.gateway):
            run_get(base + read_path, token, 8, 2.0)  # warm up pools and caches
    suffix = {"direct": 600 + 10 * round_, "gateway": 700 + 10 * round_}  # villages of each run's own
    for conns, secs in ((args.connections, args.seconds), (1, args.seconds / 2)):
        for label, base in (("direct", stack.staffing), ("gateway", stack.gateway)):
            timed(
                "read  GET  /regions/{code}",
                label,
                conns,
                partial(run_get, base + read_path, token, conns, secs),
            )
        for label, base in (("direct", stack.staffing), ("gateway", stack.gateway)):
            # Answered 422 by the route before any query: the cost of the HTTP stack alone.
            timed("trivial GET /regions/x (422, no DB)", label, conns,
                  partial(run_get, base + trivial_path, token, conns, secs))  # fmt: skip
        for label, base in (("direct", stack.staffing), ("gateway", stack.gateway)):
            base_suffix = suffix[label] + (0 if conns > 1 else 50)
            key_prefix = f"{label}-{conns}-{round_}"
            timed("write POST /regions + Idempotency-Key", label, conns,
                  partial(run_post, base + write_path, token, conns, secs, towns, base_suffix, key_prefix))  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each throughput run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1, choices=range(1, 5), help="times the runs repeat")
    parser.add_argument(
        "--baseline", default="",
        help="git revision measured in the same run, its stack beside this checkout's, taking turns",
    )  # fmt: skip
    args = parser.parse_args()
    env = {"JIUZHU_RATE_PER_SUB": "1000000", "JIUZHU_BURST_PER_SUB": "1000000"}
    towns = townships()
    builds: list[tuple[str, RunningStack, list[list[Row]]]] = []
    with ExitStack() as running:
        if args.baseline:
            source = running.enter_context(checkout(args.baseline))
            builds.append(
                (f"before ({args.baseline})", running.enter_context(running_stack(env, source)), [])
            )
        builds.append(("this checkout", running.enter_context(running_stack(env)), []))
        for round_ in range(1, args.rounds + 1):
            for _name, stack, rounds in builds:
                rounds.append(measure(stack, args, towns, round_))
    print(f"load generator: {generator()}; {args.seconds:g} s per throughput run; {CORES}-core machine\n")
    for name, _stack, rounds in builds:
        for i, rows in enumerate(rounds, 1):
            print(f"{name}, round {i}:")
            print(
                f"{'endpoint':<40} {'path':<8} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
                f"{'errors':>6} {'non-2xx':>7} {'vs direct':>10} {'svc CPU ms':>10} {'all CPU ms':>10}"
            )
            direct: dict[tuple[str, int], Result] = {}
            for endpoint, label, conns, r, svc, machine in rows:
                if label == "direct":
                    direct[endpoint, conns] = r
                    ratio = ""
                else:
                    d = direct[endpoint, conns]
                    ratio = f"{r.rps / d.rps:6.0%} rps" if conns > 1 else f"+{r.p50_ms - d.p50_ms:.2f} ms"
                print(
                    f"{endpoint:<40} {label:<8} {conns:>5} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
                    f"{r.errors:>6} {r.non_2xx:>7} {ratio:>10} {svc:>10.2f} {machine:>10.2f}"
                )
            print()


if __name__ == "__main__":
    main()
