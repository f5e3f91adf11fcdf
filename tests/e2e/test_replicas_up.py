"""`jiuzhu up --replicas 2` as an operator runs it: two processes per service on their own ports, the
gateway spreading reads over them. One staffing replica is killed outright under a read load: not one
read fails (the gateway sends a read the dead replica dropped to the other, and passes the dead one
over), and `jiuzhu up` restarts the replica by itself."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.test_up import _cli, _env, _free_block, _stop

pytestmark = pytest.mark.e2e


async def _load(base: str, token: str, stop: asyncio.Event, statuses: list[int]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=15) as client:
        while not stop.is_set():
            for path in ("/api/v1/regions/53", "/api/v1/quota-summary/530102", "/api/v1/contracts"):
                r = await client.get(path, headers=headers)
                statuses.append(r.status_code)


def _wait_said(log: Path, words: str, proc: subprocess.Popen[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while words not in log.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.3)


def test_a_replica_killed_under_load_loses_no_read() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="jze-", dir="/tmp"))
    port = _free_block(7)
    base = f"http://127.0.0.1:{port}"
    env = {
        **_env(data_dir),
        "JIUZHU_WORKERS": "1",
        "JIUZHU_RATE_PER_SUB": "100000",
        "JIUZHU_BURST_PER_SUB": "100000",
    }
    # Its output goes to a file: a pipe nobody reads while the test runs fills up, and then every
    # process of the stack blocks on its next log line.
    log = (data_dir / "up.log").open("w")
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "jiuzhu.cli", "up", "--port", str(port), "--replicas", "2"],
        env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        # `jiuzhu up` says it is ready only once every replica is, not only the gateway (which is
        # ready with one replica of each service).
        _wait_said(data_dir / "up.log", "Demo tokens", proc)
        replicas = {
            p.cmdline()[p.cmdline().index("--port") + 1]: p
            for p in psutil.Process(proc.pid).children()
            if "services.staffing_api.app" in " ".join(p.cmdline())
        }
        assert sorted(replicas) == [str(port + 1), str(port + 4)]  # staffing's two, 3 ports apart
        for p in (port + 1, port + 2, port + 3, port + 4, port + 5, port + 6):
            assert httpx.get(f"http://127.0.0.1:{p}/readyz").status_code == 200
        admin = _cli(data_dir, "token", "--role", "province_admin", "--region", "53")
        statuses: list[int] = []

        async def scenario() -> None:
            stop = asyncio.Event()
            loads = [asyncio.create_task(_load(base, admin, stop, statuses)) for _ in range(6)]
            await asyncio.sleep(2.0)
            before = len(statuses)
            os.killpg(replicas[str(port + 1)].pid, signal.SIGKILL)
            await asyncio.sleep(4.0)
            stop.set()
            await asyncio.gather(*loads)
            assert len(statuses) > before + 50, "the load stopped when the replica died"

        asyncio.run(scenario())
        assert len(statuses) > 100 and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # restarted by `jiuzhu up`, no operator
            try:
                if httpx.get(f"http://127.0.0.1:{port + 1}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError("the killed replica never came back")
    finally:
        alive = _stop(proc)
        log.close()
    output = (data_dir / "up.log").read_text()
    shutil.rmtree(data_dir, ignore_errors=True)
    assert alive == [], "orphan processes after SIGTERM"
    assert "and 2 replicas each" in output
    assert "staffing#1 exited with code -9; restarting in 1 s" in output
    assert "restarting staffing#1 (restart 1)" in output
