"""What `jiuzhu up` does with its processes: start each in its own process group, and when one dies,
restart it after a backoff (1 s, doubling to 30 s; back to 1 s once it has stayed up a minute) while
the rest keep serving. The gateway answers 502 for a dead service's routes meanwhile.

Each service is a uvicorn parent with worker children. A parent killed outright leaves its workers
orphaned and still holding the socket, so a dead parent's whole process group is killed before the
restart. The clock is a parameter, so the schedule is tested without waiting.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STABLE_AFTER = 60.0
Spawn = Callable[[Sequence[str], dict[str, str]], "subprocess.Popen[bytes]"]


def spawn(cmd: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(list(cmd), env=env, start_new_session=True)  # noqa: S603 - our own interpreter


def _kill_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


@dataclass
class Supervised:
    name: str
    cmd: Sequence[str]
    env: dict[str, str]
    spawner: Spawn = spawn
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    backoff: float = FIRST_BACKOFF
    restart_at: float | None = None
    restarts: int = 0

    def start(self, now: float) -> None:
        self.proc = self.spawner(self.cmd, self.env)
        self.started, self.restart_at = now, None

    def check(self, now: float, say: Callable[[str], None]) -> None:
        """One look: restart when due, or notice a death and schedule the restart."""
        if self.proc is None:
            if self.restart_at is not None and now >= self.restart_at:
                self.restarts += 1
                say(f"jiuzhu up: restarting {self.name} (restart {self.restarts})")
                self.start(now)
            return
        code = self.proc.poll()
        if code is None:
            return
        _kill_group(self.proc, signal.SIGKILL)  # orphaned workers would keep the socket
        if now - self.started >= STABLE_AFTER:
            self.backoff = FIRST_BACKOFF
        say(f"jiuzhu up: {self.name} exited with code {code}; restarting in {self.backoff:g} s")
        self.restart_at = now + self.backoff
        self.backoff = min(self.backoff * 2, MAX_BACKOFF)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            _kill_group(self.proc, signal.SIGTERM)


def stop_all(services: Sequence[Supervised], grace: float = 10.0) -> None:
    """SIGTERM every group, wait up to ``grace`` seconds, then SIGKILL what is left."""
    for s in services:
        s.stop()
    deadline = time.monotonic() + grace
    for s in services:
        if s.proc is None:
            continue
        try:
            s.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(s.proc, signal.SIGKILL)
            s.proc.wait()
        _kill_group(s.proc, signal.SIGKILL)  # workers of a parent that left before them
