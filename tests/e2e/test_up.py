"""`jiuzhu up` as a user runs it: real processes, the embedded PostgreSQL, real HTTP through the gateway."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

pytestmark = pytest.mark.e2e


def _free_block(size: int = 4) -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + size >= 65535:
            continue
        try:
            for p in range(base, base + size):
                with socket.socket() as t:
                    t.bind(("127.0.0.1", p))
        except OSError:
            continue
        return base
    raise RuntimeError("no free ports")


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIUZHU_") and k != "DATABASE_URL"}
    env["JIUZHU_DATA_DIR"] = str(data_dir)
    env["JIUZHU_WORKERS"] = "2"
    return env


def _cli(data_dir: Path, *args: str) -> str:
    out = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "jiuzhu.cli", *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.strip()


def _start(data_dir: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "jiuzhu.cli", "up", "--port", str(port)],
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_ready(url: str, proc: subprocess.Popen[str], timeout: float = 90) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("not ready")


def _stop(proc: subprocess.Popen[str]) -> list[psutil.Process]:
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    _, alive = psutil.wait_procs(children, timeout=10)
    return alive


def test_up_serves_through_the_gateway_and_stops_cleanly() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="jze-", dir="/tmp"))
    port = _free_block()
    base = f"http://127.0.0.1:{port}"
    proc = _start(data_dir, port)
    try:
        _wait_ready(f"{base}/readyz", proc)
        # Each service, and the gateway, runs two worker processes under its uvicorn.
        expected = [("services.staffing_api.app", 2), ("services.penalty_api.app", 2), ("gateway.app", 2)]
        for factory, workers in expected:
            (server,) = [
                p for p in psutil.Process(proc.pid).children() if any(factory in part for part in p.cmdline())
            ]
            spawned = [c for c in server.children() if "spawn_main" in " ".join(c.cmdline())]
            assert len(spawned) == workers, (factory, spawned)
        admin = _cli(data_dir, "token", "--role", "province_admin", "--region", "53")
        county = _cli(data_dir, "token", "--role", "county_official", "--region", "530102")
        r = httpx.get(f"{base}/api/v1/regions/53", headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 200 and r.json()["name"] == "云南省"
        assert "server" not in r.headers
        other = httpx.get(f"{base}/api/v1/regions/530103", headers={"Authorization": f"Bearer {county}"})
        assert other.status_code == 404
        # Straight to the service, bypassing the gateway: verified there too.
        assert httpx.get(f"http://127.0.0.1:{port + 1}/api/v1/regions/53").status_code == 401
        ok = httpx.get(
            f"http://127.0.0.1:{port + 1}/api/v1/regions/53", headers={"Authorization": f"Bearer {admin}"}
        )
        assert ok.status_code == 200
        for p in (port + 2, port + 3):
            assert httpx.get(f"http://127.0.0.1:{p}/readyz").status_code == 200
        # The demo users `make run` printed can sign in; their passwords live in the data directory.
        creds = (data_dir / "demo-credentials.txt").read_text().splitlines()
        username, password, _role, region = next(
            c.split("\t") for c in creds if c.startswith("demo-county\t")
        )
        signin = httpx.post(
            f"{base}/auth/token", data={"grant_type": "password", "username": username, "password": password}
        )
        assert signin.status_code == 200
        mine = {"Authorization": f"Bearer {signin.json()['access_token']}"}
        assert httpx.get(f"{base}/api/v1/regions/{region}", headers=mine).status_code == 200
        assert httpx.post(f"{base}/auth/revoke", headers=mine).status_code == 200
        # Revoked in the gateway at once, and in the service within its deny-list cache (2 s).
        assert httpx.get(f"{base}/api/v1/regions/{region}", headers=mine).status_code == 401
        time.sleep(2.5)
        assert (
            httpx.get(f"http://127.0.0.1:{port + 1}/api/v1/regions/{region}", headers=mine).status_code == 401
        )
        metrics = httpx.get(f"{base}/metrics").text
        assert "jiuzhu_gateway_requests_total" in metrics
        assert httpx.get(f"{base}/openapi.json").json()["paths"]["/api/v1/regions"]
        # Keys rotate while the stack runs: the new kid verifies without a restart (services re-read
        # the key directory on an unknown kid, at most every 10 s), and old tokens keep working.
        _cli(data_dir, "keys", "rotate")
        fresh = _cli(data_dir, "token", "--role", "province_admin", "--region", "53")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if (
                httpx.get(
                    f"{base}/api/v1/regions/53", headers={"Authorization": f"Bearer {fresh}"}
                ).status_code
                == 200
            ):
                break
            time.sleep(0.5)
        else:
            raise AssertionError("rotated key never accepted")
        assert (
            httpx.get(f"{base}/api/v1/regions/53", headers={"Authorization": f"Bearer {admin}"}).status_code
            == 200
        )
        # One service killed outright (issue 13): its routes answer 502 while the others keep serving,
        # and `jiuzhu up` restarts it after a backoff, with no operator.
        h = {"Authorization": f"Bearer {admin}"}
        (staffing,) = [
            p
            for p in psutil.Process(proc.pid).children()
            if "services.staffing_api.app" in " ".join(p.cmdline())
        ]
        staffing.kill()
        seen: set[int] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = httpx.get(f"{base}/api/v1/regions/53", headers=h, timeout=10).status_code
            seen.add(status)
            if status == 502:
                assert httpx.get(f"{base}/api/v1/contracts", headers=h, timeout=10).status_code == 200
            if status == 200 and 502 in seen:
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"staffing_api never came back: {seen}")
        assert seen <= {200, 502}, seen
    finally:
        alive = _stop(proc)
    output = proc.stdout.read() if proc.stdout else ""
    assert alive == [], "orphan processes after SIGTERM"
    assert "province_admin @ 53" in output and "/docs" in output
    assert "services and gateway run 2 worker process(es) each" in output
    assert "staffing exited with code -9; restarting in 1 s" in output
    assert "restarting staffing (restart 1)" in output
    assert "demo-county" in output and password in output
    assert "demo contracted county 五华区" in output and "# contractor " in output and "# worker " in output
    assert not (data_dir / "pg" / "postmaster.pid").exists(), "PostgreSQL still running"
    # A second start on the same data directory comes up cleanly (and does not seed again).
    again = _start(data_dir, port)
    try:
        _wait_ready(f"{base}/readyz", again)
    finally:
        assert _stop(again) == []
    second_output = again.stdout.read() if again.stdout else ""
    assert "regions and statistics left as they are" in second_output
    shutil.rmtree(data_dir, ignore_errors=True)
