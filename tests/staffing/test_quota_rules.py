"""Quota rules at, below and above every threshold (staffing.md table; acceptance.md)."""

from __future__ import annotations

import pytest

from services.staffing_api.quotas.rules import (
    Quota,
    RuleParameters,
    VillageRule,
    VillageTier,
    county_quota,
    quota,
    status,
    township_quota,
    village_quota,
)

P = RuleParameters()


@pytest.mark.parametrize(
    ("dibao", "minimum"),
    [
        (0, 3),
        (29_999, 3),
        (30_000, 3),
        (30_001, 4),
        (39_999, 4),
        (40_000, 4),
        (40_001, 5),
        (45_000, 5),
        (49_999, 5),
        (50_000, 5),
        (50_001, 6),
        (100_000, 10),
        (100_001, 11),
    ],
)
def test_county(dibao: int, minimum: int) -> None:
    assert county_quota(dibao, P) == Quota(minimum, None)


@pytest.mark.parametrize(
    ("dibao", "minimum", "maximum"),
    [
        (0, 1, 2),
        (1_499, 1, 2),
        (1_500, 1, 2),
        (1_501, 2, 2),
        (1_600, 2, 2),
        (1_601, 2, 3),
        (2_400, 2, 3),
        (2_401, 2, 4),
        (3_000, 2, 4),
        (3_001, 3, 4),
        (3_200, 3, 4),
        (3_201, 3, 5),
        (4_500, 3, 6),
        (4_501, 4, 6),
        (12_000, 8, 15),
        (12_001, 9, 16),
    ],
)
def test_township(dibao: int, minimum: int, maximum: int) -> None:
    assert township_quota(dibao, P) == Quota(minimum, maximum)


@pytest.mark.parametrize(
    ("population", "maximum"),
    [(0, 1), (4_999, 1), (5_000, 2), (5_001, 2), (9_999, 2), (10_000, 3), (10_001, 3), (250_000, 3)],
)
def test_village(population: int, maximum: int) -> None:
    assert village_quota(population, P) == Quota(1, maximum)


def test_rules_are_parameters() -> None:
    stricter = RuleParameters.model_validate(
        {
            "county": {"threshold": 20_000, "minimum_at_or_below": 4, "recipients_per_staff": 8_000},
            "rounding": "floor",
        }
    )
    assert county_quota(20_000, stricter) == Quota(4, None)
    assert county_quota(23_999, stricter) == Quota(2, None)  # floor, as that policy says
    assert quota("township", 1_501, RuleParameters(rounding="half_up")) == Quota(1, 2)
    with pytest.raises(ValueError, match="tiers"):
        VillageRule(tiers=[VillageTier(population_from=100, maximum=1)])
    with pytest.raises(ValueError, match="non-negative"):
        quota("county", -1, P)


@pytest.mark.parametrize(
    ("minimum", "maximum", "total", "expected"),
    [
        (3, None, 2, "below_minimum"),
        (3, None, 3, "within_quota"),
        (3, None, 99, "within_quota"),
        (1, 2, 0, "below_minimum"),
        (1, 2, 2, "within_quota"),
        (1, 2, 3, "above_maximum"),
    ],
)
def test_status(minimum: int, maximum: int | None, total: int, expected: str) -> None:
    assert status(minimum, maximum, total) == expected
