"""`jiuzhu up`'s supervisor (issue 13 item 7): a dead process is restarted after a backoff that
doubles to 30 s and starts again at 1 s once the process has stayed up a minute. Real child
processes; the clock is a parameter."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

from jiuzhu.supervisor import Supervised, spawn, stop_all

DIES = [sys.executable, "-c", "raise SystemExit(3)"]
LIVES = [sys.executable, "-c", "import time; time.sleep(60)"]


def _dead(s: Supervised) -> None:
    assert s.proc is not None
    s.proc.wait(timeout=10)


def test_backoff_doubles_to_its_cap_and_resets_after_a_stable_run() -> None:
    said: list[str] = []
    started: list[Sequence[str]] = []

    def spawner(cmd: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        started.append(cmd)
        return spawn(cmd, env)

    s = Supervised("staffing", DIES, {}, spawner=spawner)
    s.start(0.0)
    now, waits = 0.0, []
    for _ in range(7):
        _dead(s)
        s.check(now, said.append)
        assert s.restart_at is not None
        waits.append(s.restart_at - now)
        s.check(s.restart_at - 0.01, said.append)  # not yet
        assert s.proc is None
        now = s.restart_at
        s.check(now, said.append)  # due: started again
        assert s.proc is not None
    assert waits == [1, 2, 4, 8, 16, 30, 30]
    assert said[0] == "jiuzhu up: staffing exited with code 3; restarting in 1 s"
    assert said[1] == "jiuzhu up: restarting staffing (restart 1)"
    # Up for a minute before dying again: the next wait is 1 s.
    _dead(s)
    s.check(now + 60, said.append)
    assert s.restart_at == now + 61
    assert len(started) == 8


def test_a_live_process_is_left_alone_and_stopped_with_its_group() -> None:
    s = Supervised("penalty", LIVES, {})
    s.start(0.0)
    said: list[str] = []
    s.check(100.0, said.append)
    assert said == [] and s.proc is not None and s.proc.poll() is None
    stop_all([s], grace=5)
    assert s.proc.poll() is not None
