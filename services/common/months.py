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
