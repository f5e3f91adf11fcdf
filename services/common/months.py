"""Months (``YYYY-MM``) as the first day of the month; business dates are in Asia/Shanghai."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.common.errors import FieldError, invalid

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")
_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


def parse_month(raw: str, field: str = "month") -> date:
    m = _MONTH.fullmatch(raw.strip())
    if m is None:
        raise invalid(
            "INVALID_MONTH",
            "月份格式应为 YYYY-MM",
            "A month is written YYYY-MM",
            [FieldError(field, "INVALID_MONTH", "月份格式应为 YYYY-MM", "A month is written YYYY-MM")],
        )
    return date(int(m.group(1)), int(m.group(2)), 1)


def format_month(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def business_today(now: datetime) -> date:
    """The calendar day in Yunnan at the instant ``now`` (timezone-aware)."""
    return now.astimezone(BUSINESS_TZ).date()


def add_months(d: date, months: int) -> date:
    """The same day ``months`` later; a day the target month lacks becomes its last day
    (31 August + 6 months = 28 or 29 February), the reading of 民法典 第二百零二条."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - date.resolution).day
    return date(year, month, min(d.day, last))
