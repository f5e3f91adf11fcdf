"""Comprehensive scoring (87号令): the acceptance example, exactness, ties, abnormally low bids,
and the weight rules at their boundaries."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import pytest

from services.common.errors import DomainError
from services.contract_api.procurement.rules import (
    Bid,
    check_method,
    check_weights,
    evaluate,
    half_up,
)

CRITERIA = {"service_plan": D("0.40"), "staff_quality": D("0.20"), "experience": D("0.10")}


def sheet(plan: str, staff: str, experience: str) -> dict[str, D]:
    return {"service_plan": D(plan), "staff_quality": D(staff), "experience": D(experience)}


def test_acceptance_example_the_dearer_better_bid_wins() -> None:
    a = Bid(1, D("900000.00"), [sheet("80", "90", "70")])
    b = Bid(2, D("1000000.00"), [sheet("90", "90", "90")])
    ranked = {r.bid_id: r for r in evaluate([a, b], D("0.30"), CRITERIA)}
    assert (ranked[1].quality_score, ranked[1].price_score, ranked[1].total, ranked[1].rank) == (
        D("57.00"), D("30.00"), D("87.00"), 2,
    )  # fmt: skip
    assert (ranked[2].quality_score, ranked[2].price_score, ranked[2].total, ranked[2].rank) == (
        D("63.00"), D("27.00"), D("90.00"), 1,
    )  # fmt: skip
    assert not ranked[1].abnormally_low and not ranked[2].abnormally_low


def test_criterion_score_is_the_mean_over_evaluators_without_intermediate_rounding() -> None:
    # Means 85, 83.333…, 70; quality = 34 + 16.666… + 7 = 57.666… → 57.67; price score 30 exactly.
    bid = Bid(1, D("500000.00"), [sheet("80", "80", "70"), sheet("90", "85", "70"), sheet("85", "85", "70")])
    (only,) = evaluate([bid], D("0.30"), CRITERIA)
    assert (only.quality_score, only.price_score, only.total) == (D("57.67"), D("30.00"), D("87.67"))


def test_price_score_is_exact_and_rounded_once() -> None:
    # 300000 / 700000 × 0.30 × 100 = 12.857142…, quality 0.7 × 85.71 = 59.997: shown 12.86 and 60.00,
    # but the total is the exact sum 72.854142… rounded once: 72.85, not 12.86 + 60.00.
    low = Bid(1, D("300000.00"), [sheet("50", "50", "50")])
    high = Bid(2, D("700000.00"), [sheet("85.71", "85.71", "85.71")])
    ranked = {r.bid_id: r for r in evaluate([low, high], D("0.30"), CRITERIA)}
    assert (ranked[2].price_score, ranked[2].quality_score, ranked[2].total) == (
        D("12.86"),
        D("60.00"),
        D("72.85"),
    )


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (Fraction(12345, 1000), D("12.35")),  # half goes up
        (Fraction(12344, 1000), D("12.34")),
        (Fraction(123449, 10000), D("12.34")),
        (Fraction(1, 3), D("0.33")),
        (Fraction(2, 3), D("0.67")),
        (Fraction(0), D("0.00")),
        (Fraction(100), D("100.00")),
    ],
)
def test_half_up(value: Fraction, rounded: D) -> None:
    assert half_up(value) == rounded


def test_equal_totals_lower_price_first() -> None:
    # B: price score 27, quality 63 → 90. A: price score 30, quality 60 → 90. A is cheaper.
    a = Bid(1, D("900000.00"), [sheet("85", "90", "80")])
    b = Bid(2, D("1000000.00"), [sheet("90", "90", "90")])
    ranked = evaluate([b, a], D("0.30"), CRITERIA)
    assert [(r.bid_id, r.total, r.rank) for r in ranked] == [(1, D("90.00"), 1), (2, D("90.00"), 2)]


def test_equal_total_and_price_share_a_rank() -> None:
    same = [sheet("90", "90", "90")]
    bids = [Bid(3, D("800000.00"), same), Bid(1, D("800000.00"), same), Bid(2, D("900000.00"), same)]
    ranked = evaluate(bids, D("0.30"), CRITERIA)
    assert [(r.bid_id, r.rank) for r in ranked] == [(1, 1), (3, 1), (2, 3)]


def test_ranking_uses_the_rounded_total() -> None:
    # Exact totals 90.004 (dearer) and 89.996 (cheaper) both show 90.00: a tie, so the lower price
    # ranks first, although the dearer bid's exact total is higher.
    dearer = Bid(1, D("1000000.00"), [sheet("90.01", "90", "90")])  # 27 + 63.004
    cheaper = Bid(2, D("900000.00"), [sheet("89.99", "80", "80")])  # 30 + 59.996
    ranked = evaluate([dearer, cheaper], D("0.30"), CRITERIA)
    assert [(r.bid_id, r.total, r.rank) for r in ranked] == [(2, D("90.00"), 1), (1, D("90.00"), 2)]


def test_abnormally_low_is_strictly_below_half_the_mean() -> None:
    sheets = [sheet("80", "80", "80")]
    # Mean of 400, 1000, 1000 = 800; half is 400: 400 itself is not below it.
    at = evaluate(
        [Bid(1, D("400.00"), sheets), Bid(2, D("1000.00"), sheets), Bid(3, D("1000.00"), sheets)],
        D("0.30"),
        CRITERIA,
    )
    assert not any(r.abnormally_low for r in at)
    # 399.99: mean 799.996…, half 399.998…: below.
    below = evaluate(
        [Bid(1, D("399.99"), sheets), Bid(2, D("1000.00"), sheets), Bid(3, D("1000.00"), sheets)],
        D("0.30"),
        CRITERIA,
    )
    assert [r.bid_id for r in below if r.abnormally_low] == [1]


@pytest.mark.parametrize(
    ("price_weight", "ok"),
    [("0.09", False), ("0.10", True), ("0.11", True), ("0.29", True), ("0.30", True), ("0.31", False),
     ("0.05", False), ("0.35", False)],
)  # fmt: skip
def test_price_weight_range(price_weight: str, ok: bool) -> None:
    pw = D(price_weight)
    criteria = {"service_plan": 1 - pw}
    if ok:
        check_weights(pw, criteria)
    else:
        with pytest.raises(DomainError, match="PRICE_WEIGHT_OUT_OF_RANGE"):
            check_weights(pw, criteria)


@pytest.mark.parametrize(
    ("criteria", "code"),
    [
        ({"a": D("0.69")}, "WEIGHTS_NOT_ONE"),
        ({"a": D("0.71")}, "WEIGHTS_NOT_ONE"),
        ({}, "CRITERIA_REQUIRED"),
        ({"a": D("0.70"), "b": D("0")}, "CRITERIA_REQUIRED"),
    ],
)
def test_weights_must_sum_to_one(criteria: dict[str, D], code: str) -> None:
    with pytest.raises(DomainError, match=code):
        check_weights(D("0.30"), criteria)
    check_weights(D("0.30"), {"a": D("0.40"), "b": D("0.30")})


@pytest.mark.parametrize("method", ["lowest_price", "inquiry"])
def test_lowest_price_methods_are_refused(method: str) -> None:
    with pytest.raises(DomainError, match="LOWEST_PRICE_NOT_ALLOWED"):
        check_method(method)
    check_method("competitive_consultation")
