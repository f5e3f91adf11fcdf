"""Property-based fuzzing of the whole API through the gateway with schemathesis.

    make fuzz      (or: .venv/bin/python fuzz/api.py [--examples 25])

Starts `jiuzhu up` in a temporary data directory and runs schemathesis against the gateway's merged
`/openapi.json` with a province token, failing on any 5xx. `/auth/revoke` is left out: fuzzing it
revokes the very token the run uses, and everything after answers 401.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import running_stack


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=25, help="examples per operation")
    args = parser.parse_args()
    with running_stack({"JIUZHU_RATE_PER_SUB": "100000", "JIUZHU_BURST_PER_SUB": "100000"}) as stack:
        token = stack.token("province_admin", "53", sub="fuzz")
        command = [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{stack.gateway}/openapi.json",
            "-H",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            str(args.examples),
            "--phases",
            "examples,fuzzing",
            "--exclude-path",
            "/auth/revoke",
        ]
        return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
