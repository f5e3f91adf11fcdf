"""因素法 (factor-method) allocation of the provincial subsidy (notice §五 经费保障; contracts.md
*Funds*). Pure and exact: shares are fractions, amounts are whole fen, and the fen left over after
rounding every amount down goes to the largest remainders, so the amounts always add up to the total.

    share_i  = Σ_k w_k · x_ik / Σ_j x_jk     (a factor all of whose values are 0 is dropped and the
                                               other weights rescaled to sum to 1)
    amount_i = total · share_i, to the fen by the largest remainder (equal remainders: the region code
               that sorts first as a string gets the fen first)

Also here: who moves an allocation through ``draft → approved → published``, which units an allocation
may have, the execution rate, and what §五 forbids spending on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from services.common.errors import invalid, invalid_field
from services.common.models.funds import EXPENDITURE_CATEGORIES
from services.common.transitions import Step, Table

FACTORS = ("needy_population", "workload", "fund_use", "performance")
FEN = Decimal("0.01")
RATE = Decimal("0.0001")
FORBIDDEN_CATEGORIES = tuple(c for c in EXPENDITURE_CATEGORIES if c != "service_purchase")

# Approval by the finance department of the allocating level; publication by it or the province.
TRANSITIONS: Table = {
    ("draft", "approve"): Step("approved", frozenset({"finance_official"})),
    ("approved", "publish"): Step("published", frozenset({"finance_official", "province_admin"})),
}


@dataclass(frozen=True)
class Line:
    region_code: str
    share: Fraction
    amount: Decimal

    @property
    def share_6dp(self) -> Decimal:
        """The share as published (6 decimals, half-up); the amount comes from the exact share."""
        return (Decimal(self.share.numerator) / Decimal(self.share.denominator)).quantize(
            Decimal("0.000001"), rounding=ROUND_HALF_UP
        )


def check_weights(weights: Mapping[str, Decimal]) -> None:
    if set(weights) != set(FACTORS) or any(w < 0 for w in weights.values()) or sum(weights.values()) != 1:
        raise invalid_field(
            "weights", "WEIGHTS_INVALID", "四项因素权重须为非负数且合计为 1",
            "The four weights must be non-negative and sum to 1",
        )  # fmt: skip


def shares(
    weights: Mapping[str, Decimal], values: Mapping[str, Mapping[str, Decimal]]
) -> dict[str, Fraction]:
    """Each unit's exact share. ``values``: region code → factor → value (≥ 0)."""
    check_weights(weights)
    if not values:
        raise invalid("NO_UNITS", "没有参与分配的单位", "No unit takes part in the allocation")
    if any(v < 0 for unit in values.values() for v in unit.values()):
        raise invalid_field(
            "factor_values", "FACTOR_NEGATIVE", "因素值不能为负", "Factor values cannot be negative"
        )
    totals = {k: sum((Fraction(unit.get(k, 0)) for unit in values.values()), Fraction(0)) for k in FACTORS}
    kept = {k: Fraction(weights[k]) for k in FACTORS if totals[k] > 0 and weights[k] > 0}
    if not kept:
        raise invalid(
            "NO_FACTOR_DATA", "所有加权因素的数值均为 0，无法分配", "Every weighted factor is zero everywhere"
        )
    scale = sum(kept.values(), Fraction(0))
    return {
        code: sum((w / scale * Fraction(unit.get(k, 0)) / totals[k] for k, w in kept.items()), Fraction(0))
        for code, unit in values.items()
    }


def allocate(
    total: Decimal, weights: Mapping[str, Decimal], values: Mapping[str, Mapping[str, Decimal]]
) -> list[Line]:
    """The lines of an allocation, by region code; their amounts sum to ``total`` exactly."""
    if total <= 0 or total != total.quantize(FEN):
        raise invalid_field(
            "total_amount", "INVALID_TOTAL", "总额须为正数、精确到分", "total_amount must be positive, in fen"
        )
    share = shares(weights, values)
    exact = {code: Fraction(total) * 100 * s for code, s in share.items()}  # in fen
    fen = {code: f.numerator // f.denominator for code, f in exact.items()}
    left = int(total * 100) - sum(fen.values())
    for code in sorted(exact, key=lambda c: (-(exact[c] - fen[c]), c))[:left]:
        fen[code] += 1
    return [Line(code, share[code], (Decimal(fen[code]) / 100).quantize(FEN)) for code in sorted(share)]


def roles_for(action: str) -> frozenset[str]:
    """Who may take ``action`` at all (checked before the state: a 403 never reveals the state)."""
    return frozenset().union(*(s.roles for (_, a), s in TRANSITIONS.items() if a == action))


def check_units(requested: list[str] | None, eligible: list[str]) -> list[str]:
    """The units of an allocation: ``requested`` (each eligible, no repeats) or every eligible one."""
    if requested is None:
        return sorted(eligible)
    unknown = sorted(set(requested) - set(eligible))
    if unknown or len(set(requested)) != len(requested):
        raise invalid_field(
            "units", "UNIT_NOT_ELIGIBLE",
            "分配单位须为本级的下级单位且不重复：" + ", ".join(unknown or ["重复"]),
            "Units must be this level's units, each once: " + ", ".join(unknown or ["repeated"]),
        )  # fmt: skip
    return sorted(requested)


def merge_values(
    defaults: Mapping[str, Mapping[str, Decimal]], overrides: Mapping[str, Mapping[str, Decimal]] | None
) -> dict[str, dict[str, Decimal]]:
    """The factor values used: the defaults from the data, replaced factor by factor where given."""
    unknown = sorted(set(overrides or {}) - set(defaults))
    if unknown:
        raise invalid_field(
            "factor_values", "UNIT_NOT_ELIGIBLE", "因素值所列单位不在分配单位中：" + ", ".join(unknown),
            "factor_values names units outside the allocation: " + ", ".join(unknown),
        )  # fmt: skip
    return {code: {**values, **(overrides or {}).get(code, {})} for code, values in defaults.items()}


def execution_rate(spent: Decimal, allocated: Decimal) -> Decimal:
    """Spent over allocated, capped at 1 (own funds can take spending past the line), 4 decimals."""
    if allocated <= 0:
        return Decimal("0.0000")
    return min(Decimal(1), spent / allocated).quantize(RATE, rounding=ROUND_HALF_UP)


def check_category(category: str) -> None:
    """§五: 不得将购买社会救助服务的经费用于三公经费、工作经费、设备购置、工程建设等支出."""
    if category in FORBIDDEN_CATEGORIES:
        raise invalid_field(
            "category", "EXPENDITURE_CATEGORY_FORBIDDEN",
            "购买服务经费不得用于三公经费、工作经费、设备购置、工程建设",
            f"Purchase-of-service funds may not be spent on {category}",
        )  # fmt: skip
