"""Gateway overhead: the same read and write, straight to staffing_api and through the gateway.

    make bench        (or: .venv/bin/python bench/gateway.py [--seconds 10])

Starts `jiuzhu up` in a temporary data directory (embedded PostgreSQL), raises the per-subject rate
limit for the run, then measures in one run: throughput at 64 connections (the ratio is the figure
that matters on a shared 2-core machine) and p50 at one connection (the latency the gateway adds).
"""

from __future__ import annotations

import argparse
import csv
import sys
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import running_stack
from bench.load import Result, generator, run_get, run_post


def townships() -> list[str]:
    path = resources.files("services.staffing_api") / "data" / "yunnan-divisions-2023.csv"
    with path.open(encoding="utf-8") as fh:
        return [r["code"] for r in csv.DictReader(fh) if r["level"] == "township"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each throughput run")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    env = {"JIUZHU_RATE_PER_SUB": "1000000", "JIUZHU_BURST_PER_SUB": "1000000"}
    towns = townships()
    rows: list[tuple[str, str, int, Result]] = []
    with running_stack(env) as stack:
        token = stack.token("province_admin", "53", sub="bench")
        read_path = "/api/v1/regions/530102"
        write_path = "/api/v1/regions"
        trivial_path = "/api/v1/regions/x"
        for base in (stack.staffing, stack.gateway):
            run_get(base + read_path, token, 8, 2.0)  # warm up pools and caches
        suffix = {"direct": 600, "gateway": 700}
        for conns, secs in ((args.connections, args.seconds), (1, args.seconds / 2)):
            for label, base in (("direct", stack.staffing), ("gateway", stack.gateway)):
                rows.append(
                    (
                        "read  GET  /regions/{code}",
                        label,
                        conns,
                        run_get(base + read_path, token, conns, secs),
                    )
                )
            for label, base in (("direct", stack.staffing), ("gateway", stack.gateway)):
                # Answered 422 by the route before any query: the cost of the HTTP stack alone.
                result = run_get(base + trivial_path, token, conns, secs)
                rows.append(("trivial GET /regions/x (422, no DB)", label, conns, result))
            for label, base in (("direct", stack.staffing), ("gateway", stack.gateway)):
                base_suffix = suffix[label] + (0 if conns > 1 else 50)
                result = run_post(
                    base + write_path, token, conns, secs, towns, base_suffix, f"{label}-{conns}"
                )
                rows.append(("write POST /regions + Idempotency-Key", label, conns, result))
    print(f"load generator: {generator()}; {args.seconds:g} s per throughput run; 2-core machine\n")
    print(
        f"{'endpoint':<40} {'path':<8} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'non-2xx':>7} {'vs direct':>10}"
    )
    direct: dict[tuple[str, int], Result] = {}
    for endpoint, label, conns, r in rows:
        if label == "direct":
            direct[endpoint, conns] = r
            ratio = ""
        else:
            d = direct[endpoint, conns]
            ratio = f"{r.rps / d.rps:6.0%} rps" if conns > 1 else f"+{r.p50_ms - d.p50_ms:.2f} ms"
        print(
            f"{endpoint:<40} {label:<8} {conns:>5} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.errors:>6} {r.non_2xx:>7} {ratio:>10}"
        )


if __name__ == "__main__":
    main()
