"""The harness's guard against a test meeting Yunnan's midnight (16:00 UTC), at its margin."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import wait_for_midnight


@pytest.mark.parametrize(
    ("now", "wait"),
    [
        (datetime(2026, 12, 3, 15, 54, 59, tzinfo=UTC), 0.0),  # 5 min 1 s before: starts now
        (datetime(2026, 12, 3, 15, 55, 0, tzinfo=UTC), 0.0),  # exactly the margin: still in time
        (datetime(2026, 12, 3, 15, 55, 1, tzinfo=UTC), 300.0),  # 4 min 59 s before: waits it out
        (datetime(2026, 12, 3, 15, 59, 59, tzinfo=UTC), 2.0),
        (datetime(2026, 12, 3, 16, 0, 0, tzinfo=UTC), 0.0),  # the new day has begun
        (datetime(2026, 12, 3, 23, 57, 0, tzinfo=UTC), 0.0),  # UTC's midnight is not Yunnan's
    ],
)
def test_a_test_never_starts_in_the_last_minutes_of_a_yunnan_day(now: datetime, wait: float) -> None:
    assert wait_for_midnight(now) == wait
