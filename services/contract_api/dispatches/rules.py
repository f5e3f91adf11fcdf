"""Dispatch (派遣, contracts.md *Dispatch*): notice §二 — 社会救助协理员 serve villages and communities,
full-time, under the conditions of §二(二) — and §四: the contractor posts staff only to the posts its
contract buys, each with a signed labour contract (依法签订劳动合同).

Pure functions; the person's conditions and the village quota are staffing_api's rules
(``services.staffing_api.dispatch_checks``), never copied here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from services.common.errors import invalid

# The region length each posting level sits at: an institution (救助管理站, 福利院) at a county or township.
LEVEL_LENGTHS = {"county": (6,), "township": (9,), "village": (12,), "institution": (6, 9)}


def check_level(level: str, region: str) -> None:
    if len(region) not in LEVEL_LENGTHS[level]:
        raise invalid(
            "POSTING_LEVEL_MISMATCH",
            "派驻层级与区划级别不符",
            "The posting level does not match the region's level",
        )


def needs_declarations(level: str) -> bool:
    """Village and community posts are 社会救助协理员: the §二(二) conditions apply."""
    return level == "village"


def posts_bought(posts: Iterable[Mapping[str, Any]], level: str, region: str) -> int:
    """How many posts of this level in this region the contract buys."""
    return sum(int(p["count"]) for p in posts if p["posting_level"] == level and p["region_code"] == region)


def check_posts(bought: int, occupied: int) -> None:
    if occupied >= bought:
        raise invalid(
            "POSTS_EXHAUSTED",
            f"合同在该单位该层级只购买 {bought} 个岗位，已全部派遣",
            f"The contract buys {bought} such post(s) here and all are filled",
        )


def check_labor_contract(signed_on: date | None, start: date) -> None:
    """A worker starts only under a signed labour contract: signed on or before the first day."""
    if signed_on is None or signed_on > start:
        raise invalid(
            "LABOR_CONTRACT_MISSING",
            "派遣前须依法签订劳动合同（签订日不得晚于派遣起始日）",
            "A labour contract signed on or before start_date is required",
        )


def check_end(start: date, end: date) -> None:
    if end < start:
        raise invalid("INVALID_PERIOD", "终止日不能早于起始日", "end_date cannot be before start_date")


def contract_end_day(dispatch_start: date, contract_ends: date) -> date:
    """The last day of a dispatch whose contract ends: the contract's last day, or — for a dispatch
    that had not begun — its first day (a period is never empty)."""
    return max(dispatch_start, contract_ends)
