"""Property-based fuzzing of the whole API through the gateway with schemathesis, every check on.

    make fuzz      (or: .venv/bin/python fuzz/api.py [--examples 25] [--phases ...])

Starts `jiuzhu up` in a temporary data directory (embedded PostgreSQL, demo data), mints a province
token, and runs ``schemathesis run --checks all`` against the gateway's merged `/openapi.json` with
the settings in fuzz/schemathesis.toml (fixed seed, what a conforming answer is) and our own check
in fuzz/checks.py. Exit status 0 means no failure of any kind. `/auth/revoke` is left out: fuzzing
it revokes the very token the run uses, and everything after answers 401. The suite runs a short
bounded pass of the same (tests/test_fuzz.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import RunningStack, running_stack  # noqa: E402 - after the path is set

UNLIMITED = {
    "JIUZHU_RATE_PER_SUB": "1000000",
    "JIUZHU_BURST_PER_SUB": "1000000",
    "JIUZHU_PUBLIC_RATE": "1000000",
    "JIUZHU_PUBLIC_BURST": "1000000",
    "JIUZHU_SIGNIN_RATE": "1000000",
    "JIUZHU_SIGNIN_BURST": "1000000",
}


def schemathesis(stack: RunningStack, examples: int, phases: str, report: Path | None) -> int:
    token = stack.token("province_admin", "53", sub="fuzz")
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(ROOT / "fuzz" / "schemathesis.toml"),
        "run",
        f"{stack.gateway}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--max-examples",
        str(examples),
        "--phases",
        phases,
        "--exclude-path",
        "/auth/revoke",
        "--workers",
        "2",
    ]
    if report is not None:
        command += ["--report", "ndjson", "--report-ndjson-path", str(report)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the hooks module, fuzz.checks
    return subprocess.run(command, check=False, env=env, cwd=ROOT).returncode


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=25, help="examples per operation and phase")
    parser.add_argument(
        "--phases", default="examples,coverage,fuzzing,stateful", help="schemathesis phases to run"
    )
    parser.add_argument("--report", type=Path, help="also write schemathesis' NDJSON report here")
    args = parser.parse_args()
    with running_stack(UNLIMITED) as stack:
        return schemathesis(stack, args.examples, args.phases, args.report)


if __name__ == "__main__":
    raise SystemExit(main())
