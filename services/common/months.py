"""Months (``YYYY-MM``) as the first day of the month; business dates are in Asia/Shanghai."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BeforeValidator, Strict

from services.common.errors import FieldError, invalid

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: Any) -> Any:
    """A day from a client is written YYYY-MM-DD, as the document says (``format: date``): pydantic
    alone would also read "0" as 1970-01-01 (a Unix time)."""
    if isinstance(value, date) or (isinstance(value, str) and _DAY.fullmatch(value)):
        return value
    raise ValueError("a date is written YYYY-MM-DD")


# Request models are strict (no "5" for 5, no false for 0); a day and an instant still arrive as
# JSON strings, so these two opt out of strictness and check their own shape instead.
Day = Annotated[date, Strict(False), BeforeValidator(_iso_day)]
Instant = Annotated[AwareDatetime, Strict(False)]
# Years 1000–9999: a month before that is a typing slip, and `date` has no year 0.
MONTH_PATTERN = r"^([1-9][0-9]{3})-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)


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
