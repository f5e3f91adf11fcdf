"""Fault points: named places where a test may have the process killed outright (SIGKILL), to prove
that a crash there loses or duplicates nothing. Off unless ``JIUZHU_FAULT_POINTS`` names the point —
set only by the crash tests on the processes they start."""

from __future__ import annotations

import functools
import os
import signal

from services.common.settings import get_settings


@functools.cache
def _armed() -> frozenset[str]:
    return frozenset(get_settings().fault_points)


def point(name: str) -> None:
    if name in _armed():
        os.kill(os.getpid(), signal.SIGKILL)
