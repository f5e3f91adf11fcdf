"""The contract lifecycle (contracts.md *Contracts*): notice §三(四) — the county government authorizes
the civil-affairs department to sign (县级地方人民政府可授权县级民政部门…签订政府购买服务合同), the
contractor's work plan is filed with the higher civil-affairs department (报上级民政部门备案) — and
§六(二): a takeover plan so recipients keep being served, and debarment after a serious termination.

One table, read by the routes and walked by the tests: (state, action) → next state and who may act.
Preconditions that need data are checked by the functions below it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from services.common.errors import invalid
from services.common.months import add_months
from services.common.regions import DIRECTLY_ADMINISTERED
from services.common.transitions import Step

COUNTY = frozenset({"county_official"})
GOVERNMENT = frozenset({"county_government"})
CONTRACTOR = frozenset({"contractor"})
FILING_OFFICES = frozenset({"prefecture_official", "province_admin"})
TERMINABLE = ("authorized", "signed", "filed", "acknowledged", "active", "suspended")
MAX_TERM_YEARS = 3  # 财政部令第102号 第二十三条: at most three years
DEBAR_MONTHS_DEFAULT, DEBAR_MONTHS_MIN, DEBAR_MONTHS_MAX = 36, 12, 36

TRANSITIONS: Mapping[tuple[str, str], Step] = {
    ("draft", "authorize"): Step("authorized", GOVERNMENT),
    ("authorized", "sign"): Step("signed", COUNTY),
    ("signed", "work-plan"): Step("filed", CONTRACTOR),
    ("filed", "acknowledge"): Step("acknowledged", FILING_OFFICES),
    ("acknowledged", "activate"): Step("active", COUNTY),
    ("active", "takeover"): Step("suspended", COUNTY),
    ("suspended", "resume"): Step("active", COUNTY),
    ("active", "complete"): Step("completed", COUNTY),
    **{(state, "terminate"): Step("terminated", COUNTY) for state in TERMINABLE},
}


def check_term(start: date, end: date) -> None:
    """Both days inclusive; at most three years: end ≤ start + 3 years − 1 day."""
    if end < start:
        raise invalid("INVALID_TERM", "合同终止日不能早于起始日", "end_date cannot be before start_date")
    if end > add_months(start, 12 * MAX_TERM_YEARS) - timedelta(days=1):
        raise invalid("TERM_TOO_LONG", "合同期限不得超过三年", "A contract runs three years at most")


def filing_office(county: str) -> tuple[str, str]:
    """Who acknowledges the work plan: the county's prefecture, or the province for the directly
    administered counties (role, region)."""
    if county in DIRECTLY_ADMINISTERED:
        return "province_admin", county[:2]
    return "prefecture_official", county[:4]


def debarment_until(terminated_on: date, months: int) -> date:
    if not DEBAR_MONTHS_MIN <= months <= DEBAR_MONTHS_MAX:
        raise invalid(
            "DEBAR_MONTHS_OUT_OF_RANGE",
            "禁止参与期须为 12 至 36 个月",
            "debar_months must lie between 12 and 36",
        )
    return add_months(terminated_on, months)
