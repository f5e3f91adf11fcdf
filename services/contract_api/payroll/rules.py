"""Payroll and social insurance (contracts.md *Payroll*): notice §六(二) — the contractor pays its
dispatched staff monthly and enrols them in social insurance (按月发放薪酬并办理社会保险).

A month's wage is due by the 15th of the following month: on the 15th a missing record is not yet
late, from the 16th it is `PAYROLL_MISSING`. Pure functions; ``as_of`` is the caller's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from services.common.errors import invalid
from services.common.months import add_months

DUE_DAY = 15  # of the month after the one paid for


@dataclass(frozen=True)
class Paid:
    gross_wage: Decimal
    social_insurance_paid: bool


def last_day(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


def deadline(month: date) -> date:
    return add_months(month, 1).replace(day=DUE_DAY)


def flags(month: date, as_of: date, monthly_wage: Decimal, paid: Paid | None) -> list[str]:
    """What is wrong with one dispatch's month, in a fixed order (empty: compliant)."""
    if paid is None:
        return ["PAYROLL_MISSING"] if as_of > deadline(month) else []
    out = []
    if paid.gross_wage < monthly_wage:
        out.append("UNDERPAID")
    if not paid.social_insurance_paid:
        out.append("SOCIAL_INSURANCE_MISSING")
    return out


def check_record(month: date, paid_on: date, start: date, end: date | None, today: date) -> None:
    """A record belongs to a month the dispatch ran in, paid no earlier than that month began and
    not in the future."""
    if start > last_day(month) or (end is not None and end < month):
        raise invalid(
            "MONTH_OUTSIDE_DISPATCH", "该月份不在派遣期内", "The dispatch did not run in that month"
        )
    if paid_on < month:
        raise invalid("PAID_BEFORE_MONTH", "发放日早于所属月份", "paid_on lies before the month paid for")
    if paid_on > today:
        raise invalid("PAID_ON_IN_FUTURE", "发放日不能晚于今天", "paid_on cannot lie in the future")
