"""绩效评价 (notice §七; contracts.md *Performance evaluation*): indicator systems whose weights sum to 1,
scores 0–100, the weighted total rounded half-up to the fen's precision (2 decimals), the grade at its
inclusive thresholds, the automatic metrics from counts, and consecutive periods. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from services.common.errors import invalid, invalid_field

METRICS = ("payroll_compliance_rate", "violation_free_rate", "satisfaction_rate", "post_fill_rate")
CENT = Decimal("0.01")
_PERIOD = re.compile(r"([0-9]{4})(?:-Q([1-4]))?")
# 以上 includes the number (README *Inclusive bounds*): 90 is excellent, 89.99 good.
GRADES = ((Decimal(90), "excellent"), (Decimal(80), "good"), (Decimal(60), "pass"))


@dataclass(frozen=True)
class Indicator:
    code: str
    weight: Decimal
    source: str  # manual | auto
    metric: str | None


def check_indicators(indicators: Sequence[Indicator]) -> None:
    codes = [i.code for i in indicators]
    if len(set(codes)) != len(codes):
        raise invalid_field("indicators", "INDICATOR_INVALID", "指标代码重复", "Indicator codes repeat")
    for i in indicators:
        if (i.source == "auto") != (i.metric is not None):
            raise invalid_field(
                "indicators", "INDICATOR_INVALID", f"指标 {i.code}：自动指标须指定 metric，人工指标不得指定",
                f"Indicator {i.code}: an auto indicator names its metric, a manual one none",
            )  # fmt: skip
    if sum(i.weight for i in indicators) != 1:
        raise invalid_field(
            "indicators", "WEIGHTS_INVALID", "指标权重合计须为 1", "The weights must sum to 1"
        )


def check_manual(indicators: Sequence[Indicator], manual: Mapping[str, Decimal]) -> None:
    """Every manual indicator scored, and nothing else."""
    wanted = {i.code for i in indicators if i.source == "manual"}
    if set(manual) != wanted:
        missing, extra = sorted(wanted - set(manual)), sorted(set(manual) - wanted)
        raise invalid_field(
            "manual_scores", "MANUAL_SCORES_INVALID",
            f"人工评分须恰好覆盖人工指标；缺少 {missing}，多余 {extra}",
            f"Score exactly the manual indicators; missing {missing}, unexpected {extra}",
        )  # fmt: skip


def period_range(period: str) -> tuple[date, date]:
    """The first and last day of ``YYYY`` or ``YYYY-Qn``."""
    m = _PERIOD.fullmatch(period)
    if m is None:
        raise invalid_field(
            "period", "INVALID_PERIOD", "期间须为 YYYY 或 YYYY-Qn", "period is YYYY or YYYY-Qn"
        )
    year = int(m.group(1))
    if m.group(2) is None:
        return date(year, 1, 1), date(year, 12, 31)
    q = int(m.group(2))
    last = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return date(year, 3 * q - 2, 1), date.fromordinal(last.toordinal() - 1)


def neighbours(period: str) -> tuple[str, str]:
    """The periods of the same kind just before and just after: 2025 / 2027, 2025-Q4 / 2026-Q2."""
    period_range(period)
    year, _, quarter = period.partition("-Q")
    if not quarter:
        return str(int(year) - 1), str(int(year) + 1)
    q, y = int(quarter), int(year)
    before = f"{y - 1}-Q4" if q == 1 else f"{y}-Q{q - 1}"
    after = f"{y + 1}-Q1" if q == 4 else f"{y}-Q{q + 1}"
    return before, after


def score(rate: Fraction) -> Decimal:
    """A rate in [0, 1] as a score out of 100, half-up to 2 decimals."""
    value = Decimal(rate.numerator) / Decimal(rate.denominator) * 100
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(part: int, whole: int, code: str) -> Fraction:
    if whole <= 0:
        raise invalid(
            "METRIC_NO_DATA", f"指标 {code} 在该期间没有可计算的数据",
            f"Indicator {code} has no data to compute in this period",
        )  # fmt: skip
    return min(Fraction(1), Fraction(part, whole))


def violation_free(confirmed: int, workers: int, code: str) -> Fraction:
    """1 − confirmed violations per dispatched worker, floored at 0."""
    return 1 - ratio(confirmed, workers, code)  # the ratio is capped at 1, so this stops at 0


def total(indicators: Sequence[Indicator], scores: Mapping[str, Decimal]) -> Decimal:
    exact = sum((i.weight * scores[i.code] for i in indicators), Decimal(0))
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def grade(value: Decimal) -> str:
    return next((name for floor, name in GRADES if value >= floor), "fail")


def satisfaction(satisfied: int, surveys: int) -> Decimal | None:
    """困难群众满意度: the share of scores 4–5, 4 decimals; None without surveys."""
    if surveys == 0:
        return None
    return (Decimal(satisfied) / Decimal(surveys)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
