"""Violations and their deductions (penalties.md): notice §六(二) — for each case found (发现1起) of a
dispatched worker's 弄虚作假、马虎草率、违规操作, the purchaser deducts 1 to 3 times that worker's monthly
wage or the post's subsidy standard (1至3倍派遣人员月工资或补助标准) and may require a replacement.

Pure functions; ``today`` is the caller's clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from services.common.errors import invalid, invalid_field
from services.common.money import to_fen
from services.common.months import add_months

MULTIPLIER_MIN, MULTIPLIER_MAX = Decimal("1.00"), Decimal("3.00")
APPEAL_DAYS = 15  # 15 days from the written decision, the last day included
ESCALATION_MONTHS = 12
FALSIFICATIONS_FOR_TERMINATION = 3


def check_multiplier(m: Decimal) -> Decimal:
    """1.00 to 3.00 inclusive, at most two decimals."""
    exponent = m.as_tuple().exponent
    if (
        not m.is_finite()
        or (isinstance(exponent, int) and exponent < -2)
        or not MULTIPLIER_MIN <= m <= MULTIPLIER_MAX
    ):
        raise invalid_field(
            "multiplier", "MULTIPLIER_OUT_OF_RANGE", "扣减倍数须在 1.00 至 3.00 之间，最多两位小数",
            "multiplier must lie between 1.00 and 3.00 with at most two decimals",
        )  # fmt: skip
    return m


def base(posts: Iterable[Mapping[str, Any]], level: str, region: str, monthly_wage: Decimal) -> Decimal:
    """The dispatch's monthly wage, or the post's subsidy standard where the contract states one."""
    for post in posts:
        if post["posting_level"] == level and post["region_code"] == region and post.get("subsidy_standard"):
            return Decimal(str(post["subsidy_standard"]))
    return monthly_wage


def deduction(multiplier: Decimal, base_amount: Decimal) -> Decimal:
    return to_fen(multiplier * base_amount)


def check_found(occurred: date, discovered: date, today: date) -> None:
    if discovered < occurred:
        raise invalid("INVALID_DATES", "发现日期不能早于发生日期", "discovered_on cannot precede occurred_on")
    if discovered > today:
        raise invalid("DATE_IN_FUTURE", "发现日期不能晚于今天", "discovered_on cannot lie in the future")


def check_decided(decided: date, discovered: date, today: date) -> None:
    if decided > today:
        raise invalid_field(
            "decided_on", "DATE_IN_FUTURE", "决定日期不能晚于今天", "decided_on cannot lie ahead"
        )
    if decided < discovered:
        raise invalid_field(
            "decided_on", "DECIDED_BEFORE_DISCOVERY", "决定日期不能早于发现日期",
            "decided_on cannot precede discovered_on",
        )  # fmt: skip


def appeal_last_day(decided_on: date) -> date:
    """Decided on 1 March → the last day to appeal is 16 March."""
    return decided_on + timedelta(days=APPEAL_DAYS)


def check_appeal_window(decided_on: date, today: date) -> None:
    if today > appeal_last_day(decided_on):
        raise invalid(
            "APPEAL_WINDOW_CLOSED",
            f"申诉期已过（最后一日为 {appeal_last_day(decided_on)}）",
            f"The appeal window closed on {appeal_last_day(decided_on)}",
        )


@dataclass(frozen=True)
class Confirmed:
    kind: str
    serious_social_impact: bool
    decided_on: date


@dataclass(frozen=True)
class Escalation:
    since: date
    by_kind: dict[str, int]
    termination_recommended: bool


def escalation(confirmed: Iterable[Confirmed], as_of: date) -> Escalation:
    """Over the 12 months up to ``as_of`` (decided on or after the same day a year before): a
    termination is recommended after any confirmed violation with serious social impact, or three
    confirmed falsifications (情节严重 in §六(二); the contract's termination is contract_api's)."""
    since = add_months(as_of, -ESCALATION_MONTHS)
    recent = [c for c in confirmed if since <= c.decided_on <= as_of]
    by_kind = {
        k: sum(1 for c in recent if c.kind == k)
        for k in ("falsification", "carelessness", "improper_operation")
    }
    serious = any(c.serious_social_impact for c in recent)
    return Escalation(since, by_kind, serious or by_kind["falsification"] >= FALSIFICATIONS_FOR_TERMINATION)
