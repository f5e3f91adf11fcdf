"""The factor-method arithmetic: the acceptance example to the fen, zero-factor rescaling, the
largest-remainder tie rule, refused inputs, and a property test (amounts always sum to the total,
no unit a fen or more from its exact share)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from services.common.errors import DomainError
from services.contract_api.funds import rules

D = Decimal
WEIGHTS = {"needy_population": D("0.4"), "workload": D("0.3"), "fund_use": D("0.1"), "performance": D("0.2")}
ACCEPTANCE = {
    "5301": {
        "needy_population": D(120000),
        "workload": D(35000),
        "fund_use": D("0.95"),
        "performance": D("88.5"),
    },
    "5303": {
        "needy_population": D(95000),
        "workload": D(41000),
        "fund_use": D("0.80"),
        "performance": D("91.0"),
    },
    "530627": {
        "needy_population": D(60000),
        "workload": D(12000),
        "fund_use": D("1.00"),
        "performance": D("76.0"),
    },
}


def test_acceptance_example_to_the_fen() -> None:
    lines = rules.allocate(D("10000000.00"), WEIGHTS, ACCEPTANCE)
    assert [(x.region_code, x.share_6dp, x.amount) for x in lines] == [
        ("5301", D("0.397685"), D("3976850.21")),
        ("5303", D("0.378278"), D("3782783.31")),
        ("530627", D("0.224037"), D("2240366.48")),
    ]
    assert sum(x.amount for x in lines) == D("10000000.00")
    # the last fen went to the largest remainder (5301): its exact amount rounds down
    exact = Fraction(D("10000000.00")) * lines[0].share
    assert D(exact.numerator) / D(exact.denominator) < D("3976850.21")


def test_a_factor_that_is_zero_everywhere_is_dropped_and_the_rest_rescaled() -> None:
    values = {code: {**v, "workload": D(0)} for code, v in ACCEPTANCE.items()}
    lines = rules.allocate(D("1000.00"), WEIGHTS, values)
    without = {**WEIGHTS, "workload": D(0)}
    scale = Fraction(sum(without.values()))
    totals = {k: sum(Fraction(v[k]) for v in values.values()) for k in rules.FACTORS}
    expected = {
        code: sum(
            Fraction(without[k]) / scale * Fraction(v[k]) / totals[k] for k in rules.FACTORS if totals[k]
        )
        for code, v in values.items()
    }
    assert {x.region_code: x.share for x in lines} == expected
    assert sum(x.share for x in lines) == 1


def test_equal_remainders_go_to_the_code_that_sorts_first() -> None:
    values = {code: {k: D(1) for k in rules.FACTORS} for code in ("5303", "5301", "5302")}
    lines = rules.allocate(D("100.00"), WEIGHTS, values)  # 33.333… each: one fen left over, twice
    assert [(x.region_code, x.amount) for x in lines] == [
        ("5301", D("33.34")),
        ("5302", D("33.33")),
        ("5303", D("33.33")),
    ]


@pytest.mark.parametrize(
    ("weights", "code"),
    [
        ({**WEIGHTS, "performance": D("0.21")}, "WEIGHTS_INVALID"),
        ({**WEIGHTS, "performance": D("0.3")}, "WEIGHTS_INVALID"),  # sums to 1.1
        ({**WEIGHTS, "fund_use": D("-0.1"), "performance": D("0.4")}, "WEIGHTS_INVALID"),
        ({k: v for k, v in WEIGHTS.items() if k != "fund_use"}, "WEIGHTS_INVALID"),
    ],
)
def test_weights_must_be_four_non_negative_summing_to_one(weights: dict[str, D], code: str) -> None:
    with pytest.raises(DomainError) as caught:
        rules.allocate(D("100.00"), weights, ACCEPTANCE)
    assert caught.value.code == code


def test_other_refusals() -> None:
    for total, values, code in (
        (D("100.001"), ACCEPTANCE, "INVALID_TOTAL"),
        (D("0.00"), ACCEPTANCE, "INVALID_TOTAL"),
        (D("100.00"), {}, "NO_UNITS"),
        (D("100.00"), {"5301": {k: D(0) for k in rules.FACTORS}}, "NO_FACTOR_DATA"),
        (D("100.00"), {"5301": {**ACCEPTANCE["5301"], "workload": D(-1)}}, "FACTOR_NEGATIVE"),
    ):
        with pytest.raises(DomainError) as caught:
            rules.allocate(total, WEIGHTS, values)
        assert caught.value.code == code


def test_weights_at_their_bounds() -> None:
    only_need = {k: D(1) if k == "needy_population" else D(0) for k in rules.FACTORS}
    lines = rules.allocate(D("90.00"), only_need, ACCEPTANCE)
    assert [x.amount for x in lines] == [D("39.27"), D("31.09"), D("19.64")]  # 120:95:60 of 90.00


units = st.dictionaries(
    st.from_regex(r"53[0-9]{2}", fullmatch=True),
    st.fixed_dictionaries({k: st.decimals(0, 10**7, places=2) for k in rules.FACTORS}),
    min_size=1, max_size=20,
)  # fmt: skip
weight_parts = st.lists(st.integers(0, 100), min_size=4, max_size=4).filter(lambda w: sum(w) > 0)


@given(total_fen=st.integers(1, 10**13), parts=weight_parts, values=units)
@hypothesis_settings(max_examples=300, deadline=None, database=None, derandomize=True)
def test_amounts_sum_to_the_total_and_stay_within_a_fen(
    total_fen: int, parts: list[int], values: dict[str, dict[str, D]]
) -> None:
    # weights summing to exactly 1 in Decimal: the last takes what the others leave
    scale = sum(parts)
    weights = [D(p * 10_000 // scale) / 10_000 for p in parts[:3]]
    weights.append(D(1) - sum(weights))
    total = D(total_fen) / 100
    chosen = dict(zip(rules.FACTORS, weights, strict=True))
    if not any(chosen[k] > 0 and any(v[k] > 0 for v in values.values()) for k in rules.FACTORS):
        with pytest.raises(DomainError, match="NO_FACTOR_DATA"):
            rules.allocate(total, chosen, values)
        return
    lines = rules.allocate(total, chosen, values)
    assert sum(x.amount for x in lines) == total
    for x in lines:
        assert abs(Fraction(x.amount) - Fraction(total) * x.share) < Fraction(1, 100)
