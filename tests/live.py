"""A service as `jiuzhu up` runs it — its own uvicorn process on the test's database — that a test
may start, SIGKILL and start again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


class LiveService:
    def __init__(
        self, factory: str, db_url: str, data_dir: Path, port: int, env: dict[str, str] | None = None
    ) -> None:
        self.factory, self.db_url, self.data_dir, self.port = factory, db_url, data_dir, port
        self.extra = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = f"http://127.0.0.1:{port}"

    async def start(self, **env: str) -> None:
        environment = {
            k: v for k, v in os.environ.items() if not k.startswith("JIUZHU_") and k != "DATABASE_URL"
        }
        environment.update({"DATABASE_URL": self.db_url, "JIUZHU_DATA_DIR": str(self.data_dir),
                            "JIUZHU_REVOCATION_CACHE_SECONDS": "0", **self.extra, **env})  # fmt: skip
        self.proc = subprocess.Popen(  # noqa: S603, ASYNC220 - our own interpreter and module; returns at once
            [sys.executable, "-m", "uvicorn", "--factory", self.factory, "--port", str(self.port),
             "--log-level", "warning", "--timeout-keep-alive", "120"],  # see conftest.live_staffing
            env=environment, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=self.base, timeout=5) as client:
            while True:
                assert self.proc.poll() is None, f"{self.factory} exited"
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{self.factory} not ready"
                await asyncio.sleep(0.2)

    def died(self, within: float = 10.0) -> bool:
        """Whether the process has gone (waiting up to ``within`` seconds for the kernel to say so)."""
        if self.proc is None:
            return False
        try:
            self.proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            return False
        return self.proc.returncode == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
