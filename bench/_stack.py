"""Start `jiuzhu up` in a throw-away data directory for a benchmark, and stop it afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.common.auth.keys import KeyStore
from services.common.auth.tokens import mint
from services.common.settings import Settings


@dataclass
class RunningStack:
    port: int
    data_dir: Path
    pid: int = 0  # the `jiuzhu up` process (its children are the services, the gateway, PostgreSQL)

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def staffing(self) -> str:
        return f"http://127.0.0.1:{self.port + 1}"

    def token(
        self,
        role: str,
        region: str,
        sub: str | None = None,
        org_id: str | None = None,
        scope: str | None = None,
    ) -> str:
        settings = Settings(data_dir=self.data_dir)
        store = KeyStore(settings.keys_dir)
        return mint(settings, store, role=role, region=region, sub=sub, org_id=org_id, scope=scope, ttl=3600)


def free_port_block(size: int = 4) -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        try:
            for p in range(base, base + size):
                with socket.socket() as t:
                    t.bind(("127.0.0.1", p))
        except OSError:
            continue
        return base


@contextmanager
def checkout(revision: str) -> Iterator[Path]:
    """A throw-away worktree of ``revision``, to run the baseline beside this checkout in one run."""
    path = Path(tempfile.mkdtemp(prefix="jzb-base-", dir="/tmp"))
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--force", str(path), revision],
        check=True,
        capture_output=True,
    )
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], check=False, capture_output=True)


@contextmanager
def running_stack(
    extra_env: dict[str, str] | None = None, source: Path | None = None
) -> Iterator[RunningStack]:
    """`jiuzhu up` from this checkout, or from ``source`` (another checkout, e.g. a baseline)."""
    data_dir = Path(tempfile.mkdtemp(prefix="jzb-", dir="/tmp"))
    port = free_port_block()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIUZHU_") and k != "DATABASE_URL"}
    env.update({"JIUZHU_DATA_DIR": str(data_dir), **(extra_env or {})})
    if source is not None:
        env["PYTHONPATH"] = str(source)  # ahead of the editable install of this checkout
    log = (data_dir / "stack.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jiuzhu.cli", "up", "--port", str(port)],
        env=env,
        cwd=source,
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"stack exited; see {data_dir / 'stack.log'}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError("stack not ready in 120 s")
        yield RunningStack(port, data_dir, proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)  # the database of a run is gigabytes
