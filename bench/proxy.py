"""The gateway alone: its CPU per proxied write, in front of an upstream that answers at once.

    .venv/bin/python bench/proxy.py [--seconds 8] [--rounds 3] [--connections 32] [--baseline REV ...]
                                    [--delay-ms 0] [--workers 1]

Through the whole stack a write's figures mix the gateway's cost with staffing_api's, PostgreSQL's and
wrk's, all on the same two cores, and they move by tens of percent between runs. Here the gateway —
one worker, started as `jiuzhu up` starts it — proxies `POST /api/v1/regions` (a signed-in
province admin, the JSON body a new village) to a bare asyncio server in a process of its own,
which answers every request with the same 201 and costs next to nothing. What is left is the
gateway's own work: uvicorn's HTTP on the client side, the token check, the rate limit, the access
log and metrics, aiohttp's client on the upstream side. It prints requests/s and the gateway
process's CPU (user + system) per request, round by round and the median.

``--baseline REV`` (repeatable) starts that revision's gateway from a temporary worktree beside this
checkout's; the builds take turns, round by round, on one database (`jiuzhu up` in a temporary data
directory, for sign-in's tables and the deny-list).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._stack import checkout, free_port_block, running_stack
from bench.cpu import cpu_seconds
from bench.gateway import townships
from bench.load import generator, run_post
from bench.writes import dsn_of
from gateway import shared

ANSWER = b'{"code":"530102001501","name":"bench","level":"village","kind":"village"}'
RESPONSE = (
    b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nlocation: /api/v1/regions/530102001501\r\n"
    b"content-length: " + str(len(ANSWER)).encode() + b"\r\n\r\n" + ANSWER
)


DELAY = 0.0  # seconds the upstream waits before each answer (``--delay-ms``)


class _Answering(asyncio.Protocol):
    """Reads each request (head, then Content-Length bytes) and answers it with RESPONSE."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport, self.pending = transport, b""

    def data_received(self, data: bytes) -> None:
        self.pending += data
        while (end := self.pending.find(b"\r\n\r\n")) >= 0:
            length = 0
            for line in self.pending[:end].lower().split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if len(self.pending) < end + 4 + length:
                return
            self.pending = self.pending[end + 4 + length :]
            if DELAY:
                asyncio.get_running_loop().call_later(DELAY, self._answer)
            else:
                self.transport.write(RESPONSE)

    def _answer(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(RESPONSE)


async def _serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(_Answering, "127.0.0.1", port)
    await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--baseline", action="append", default=[], help="a git revision to measure beside")
    parser.add_argument(
        "--delay-ms", type=float, default=0.0,
        help="the upstream answers each request this late, as a busy service would (in order per connection)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes (uvicorn --workers)")
    parser.add_argument("--upstream", type=int, help=argparse.SUPPRESS)  # the answering server's own process
    args = parser.parse_args()
    if args.upstream:
        global DELAY  # the answering process's one setting
        DELAY = args.delay_ms / 1000
        asyncio.run(_serve(args.upstream))
        return
    env_base = {"JIUZHU_RATE_PER_SUB": "1000000", "JIUZHU_BURST_PER_SUB": "1000000"}
    towns = townships()
    with ExitStack() as running:
        stack = running.enter_context(running_stack(env_base))
        upstream_port = free_port_block(1)
        answering = subprocess.Popen(
            [sys.executable, __file__, "--upstream", str(upstream_port), "--delay-ms", str(args.delay_ms)]
        )
        running.callback(answering.terminate)
        builds: list[tuple[str, int, list[psutil.Process]]] = []
        for n, revision in enumerate([*args.baseline, ""]):
            source = running.enter_context(checkout(revision)) if revision else None
            port = free_port_block(1)
            env = {k: v for k, v in os.environ.items() if not k.startswith("JIUZHU_") and k != "DATABASE_URL"}
            env.update(env_base)
            env.update(
                {
                    "JIUZHU_DATA_DIR": str(stack.data_dir),
                    "DATABASE_URL": dsn_of(stack),
                    "JIUZHU_UPSTREAM_STAFFING": f"http://127.0.0.1:{upstream_port}",
                    "JIUZHU_DB_POOL_SIZE": "4",
                    **shared.fresh_directory(stack.data_dir / "run" / f"proxy-{n}"),
                }
            )
            if source is not None:
                env["PYTHONPATH"] = str(source)  # ahead of the editable install of this checkout
            cmd = [sys.executable, "-m", "uvicorn", "--factory", "gateway.app:create_app", "--port", str(port),
                   "--no-server-header", "--log-level", "warning",
                   *(["--workers", str(args.workers)] if args.workers > 1 else [])]  # fmt: skip
            log = (stack.data_dir / f"proxy-{n}.log").open("w")
            proc = subprocess.Popen(cmd, env=env, cwd=source, stderr=log)
            running.callback(proc.wait)
            running.callback(proc.terminate)
            builds.append((revision or "this checkout", port, [psutil.Process(proc.pid)]))
        time.sleep(6)  # the gateways start
        # With --workers, uvicorn's parent forks them: the gateway's CPU is the whole tree's.
        builds = [
            (name, port, [procs[0], *procs[0].children(recursive=True)]) for name, port, procs in builds
        ]
        token = stack.token("province_admin", "53", sub="bench")
        for _name, port, _proc in builds:  # unmeasured: pools, the token cache
            run_post(f"http://127.0.0.1:{port}/api/v1/regions", token, args.connections, 3, towns, 400, None)
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in builds}
        print(
            f"load generator: {generator()}; {args.connections} connections, {args.seconds:g} s per run,"
            f" upstream answers after {args.delay_ms:g} ms; {args.workers} gateway worker(s)"
        )
        for round_ in range(1, args.rounds + 1):
            for name, port, procs in builds:
                before = cpu_seconds(procs)
                result = run_post(
                    f"http://127.0.0.1:{port}/api/v1/regions",
                    token,
                    args.connections,
                    args.seconds,
                    towns,
                    500,
                    None,
                )
                cpu = (cpu_seconds(procs) - before) / max(1, result.requests) * 1e6
                figures[name].append((result.rps, cpu))
                print(
                    f"round {round_}  {name:<16} {result.rps:>7.0f} requests/s  gateway CPU {cpu:>5.0f} µs a request"
                    f"  (non-2xx {result.non_2xx}, errors {result.errors})"
                )
        print("median over rounds:")
        for name, runs in figures.items():
            rps, cpu = statistics.median(r for r, _ in runs), statistics.median(c for _, c in runs)
            print(f"  {name:<16} {rps:>7.0f} requests/s  gateway CPU {cpu:>5.0f} µs a request")


if __name__ == "__main__":
    main()
