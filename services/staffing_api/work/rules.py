"""Duties and work logs (§四): pure checks, the caller passes the facts and today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.common.errors import Rejection


@dataclass(frozen=True)
class DispatchFacts:
    posting_level: str
    start_date: date
    end_date: date | None


def duty_level(posting_level: str) -> str:
    """特困人员供养服务机构 postings use the township list (staffing.md)."""
    return "township" if posting_level == "institution" else posting_level


def duty_problem(duty_code: str, posting_level: str, catalog: frozenset[tuple[str, str]]) -> Rejection | None:
    """不得要求派遣的工作人员从事社会救助工作职责以外的其他工作 (§四): only the posting level's duties."""
    if (duty_code, duty_level(posting_level)) not in catalog:
        return Rejection(
            "DUTY_OUT_OF_SCOPE",
            "该职责不在派遣层级的社会救助职责范围内",
            "This duty is outside the social-assistance duties of the posting level",
        )
    return None


def log_problem(
    dispatch: DispatchFacts, duty_code: str, day: date, today: date, catalog: frozenset[tuple[str, str]]
) -> Rejection | None:
    """The first reason a work log cannot be kept, or None."""
    problem = duty_problem(duty_code, dispatch.posting_level, catalog)
    if problem is not None:
        return problem
    if day > today:
        return Rejection("DATE_IN_FUTURE", "工作日期不能晚于今天", "The date is in the future")
    if day < dispatch.start_date or (dispatch.end_date is not None and day > dispatch.end_date):
        return Rejection(
            "DATE_OUTSIDE_DISPATCH", "工作日期不在派遣期内", "The date is outside the dispatch's period"
        )
    return None
