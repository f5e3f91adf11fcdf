"""Replacement requests (更换派遣人员, notice §六(二) 有权要求承接主体更换派遣的工作人员). Pure."""

from __future__ import annotations

from datetime import date, timedelta

from services.common.errors import invalid

DEFAULT_DAYS = 15


def default_due(today: date) -> date:
    return today + timedelta(days=DEFAULT_DAYS)


def status(fulfilled: bool, due: date, today: date) -> str:
    """open until fulfilled; overdue from the day after the due date."""
    if fulfilled:
        return "fulfilled"
    return "overdue" if today > due else "open"


def check_replacement(old: tuple[int, str, str, date | None], new: tuple[int, str, str, date | None]) -> None:
    """``(contract_id, posting_level, region_code, end_date)`` of the old and the new dispatch: same
    contract and posting, and the old one ended."""
    if old[:3] != new[:3]:
        raise invalid(
            "REPLACEMENT_MISMATCH",
            "新派遣须为同一合同、同一岗位",
            "The new dispatch must be on the same contract and post",
        )
    if old[3] is None:
        raise invalid("OLD_DISPATCH_NOT_ENDED", "原派遣尚未终止", "The replaced dispatch has not ended")
