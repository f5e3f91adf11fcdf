"""A short, bounded schemathesis pass over the running stack (`make fuzz` is the long one, with the
coverage phase's ~7,500 boundary cases and 25 examples per operation): every operation of the merged
document, every check, the fixed seed, 3 generated examples per operation and the stateful phase.
It fails on any failure of any kind — a 5xx, an undocumented status or content type, an answer off
its schema, a schema-valid request refused by validation, a schema-violating one accepted.

The stack comes from the harness `make fuzz` and `make bench` share (bench/_stack.py): when it is
over, no PostgreSQL of its data directory is left running (issue 13: one once outlived `make bench`)."""

from __future__ import annotations

import psutil
import pytest

from bench._stack import running_stack
from fuzz.api import UNLIMITED, schemathesis

pytestmark = pytest.mark.e2e


def test_a_short_fuzzing_pass_finds_nothing_and_leaves_no_database_running() -> None:
    with running_stack(UNLIMITED) as stack:
        postmaster = int((stack.data_dir / "pg" / "postmaster.pid").read_text().split()[0])
        assert psutil.pid_exists(postmaster)
        assert schemathesis(stack, examples=3, phases="fuzzing,stateful", report=None) == 0
    gone = not psutil.pid_exists(postmaster) or psutil.Process(postmaster).status() == psutil.STATUS_ZOMBIE
    assert gone, "the embedded PostgreSQL outlived the stack"
    assert not stack.data_dir.exists()
