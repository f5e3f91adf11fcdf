"""One `jiuzhu up` for the end-to-end tests that only need a running stack (the fuzzing pass, the
database restart): starting one — migrating, seeding 16,495 regions — is most of such a test's time.

It comes from the harness `make bench` and `make fuzz` share (bench/_stack.py), and when it stops no
PostgreSQL of its data directory may be left running (issue 13: one once outlived `make bench`)."""

from __future__ import annotations

from collections.abc import Iterator

import psutil
import pytest

from bench._stack import RunningStack, running_stack
from fuzz.api import UNLIMITED


def _postmaster(stack: RunningStack) -> int:
    return int((stack.data_dir / "pg" / "postmaster.pid").read_text().split()[0])


@pytest.fixture(scope="session")
def live_stack() -> Iterator[RunningStack]:
    with running_stack({**UNLIMITED, "JIUZHU_WORKERS": "1"}) as stack:
        yield stack
        postmaster = _postmaster(stack)  # read again: a test may have restarted the server
    gone = not psutil.pid_exists(postmaster) or psutil.Process(postmaster).status() == psutil.STATUS_ZOMBIE
    assert gone, "the embedded PostgreSQL outlived `jiuzhu up`"
    assert not stack.data_dir.exists(), "the stack's data directory was left behind"
