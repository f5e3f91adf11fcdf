"""A server process settles its heap once, after start-up (services/common/runtime.py)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import gc
from services.common.runtime import GEN0_THRESHOLD, settle_heap
before = gc.get_threshold()
made_at_start = [[n] for n in range(1000)]  # container objects start-up leaves behind
settle_heap()
frozen = gc.get_freeze_count()
settle_heap()  # a second app in the same process changes nothing
print(before[0], gc.get_threshold()[0] == GEN0_THRESHOLD, gc.get_threshold()[1:] == before[1:],
      frozen >= 1000, gc.get_freeze_count() == frozen)
"""


def test_start_up_objects_are_frozen_and_young_collections_rarer_once_per_process() -> None:
    # A fresh process: in this one an app of the suite may have settled the heap already.
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.split() == ["700", "True", "True", "True", "True"]
