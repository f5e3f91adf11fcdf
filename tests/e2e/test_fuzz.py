"""A short, bounded schemathesis pass over the running stack (`make fuzz` is the long one, with the
coverage phase's ~7,500 boundary cases and 25 examples per operation): every operation of the merged
document, every check, the fixed seed, 3 generated examples per operation and the stateful phase.
It fails on any failure of any kind — a 5xx, an undocumented status or content type, an answer off
its schema, a schema-valid request refused by validation, a schema-violating one accepted."""

from __future__ import annotations

import pytest

from bench._stack import RunningStack
from fuzz.api import schemathesis

pytestmark = pytest.mark.e2e


def test_a_short_fuzzing_pass_finds_nothing(live_stack: RunningStack) -> None:
    assert schemathesis(live_stack, examples=3, phases="fuzzing,stateful", report=None) == 0
