"""Start `jiuzhu up` in a throw-away data directory for a benchmark, and stop it afterwards."""

from __future__ import annotations

import os
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

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def staffing(self) -> str:
        return f"http://127.0.0.1:{self.port + 1}"

    def token(self, role: str, region: str, sub: str | None = None) -> str:
        settings = Settings(data_dir=self.data_dir)
        return mint(settings, KeyStore(settings.keys_dir), role=role, region=region, sub=sub, ttl=3600)


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
def running_stack(extra_env: dict[str, str] | None = None) -> Iterator[RunningStack]:
    data_dir = Path(tempfile.mkdtemp(prefix="jzb-", dir="/tmp"))
    port = free_port_block()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIUZHU_") and k != "DATABASE_URL"}
    env.update({"JIUZHU_DATA_DIR": str(data_dir), **(extra_env or {})})
    log = (data_dir / "stack.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.common.cli", "up", "--port", str(port)],
        env=env,
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
        yield RunningStack(port, data_dir)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
