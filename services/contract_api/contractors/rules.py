"""Who may be hired (承接主体, notice §三(二)), shell-company risk (§六(一)) and debarment (§六(二)).

Pure functions: no I/O, the date passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.common.errors import Rejection
from services.common.months import add_months

# §三(二): 依法成立的社会组织，以及依法在登记管理机关登记或经国务院批准免予登记的社会组织；
# 按事业单位分类改革应划入公益二类或转为企业的事业单位；依法在市场监管部门登记的企业、机构。
# A public institution qualifies by its category, whoever registered it (None: any authority).
ELIGIBLE_AUTHORITIES: dict[str, frozenset[str] | None] = {
    "social_organization": frozenset({"civil_affairs", "state_council_exempt"}),
    "public_institution": None,
    "enterprise": frozenset({"market_regulation"}),
    "other_institution": frozenset({"industry_authority"}),
}
ELIGIBLE_CATEGORIES = frozenset({"public_welfare_2", "production_operation"})
RISK_FLAGS = ("NO_EMPLOYEES", "NO_SOCIAL_INSURANCE_ENROLLEES", "REGISTERED_UNDER_6_MONTHS", "NO_ADDRESS")
YOUNG_MONTHS = 6


@dataclass(frozen=True)
class Organisation:
    org_type: str
    registration_authority: str
    public_institution_category: str | None
    employees: int
    social_insurance_enrollees: int
    registered_on: date
    address: str | None


def ineligibility(org: Organisation) -> list[Rejection]:
    """Every reason the organisation may not supply the services (empty: eligible)."""
    if org.org_type not in ELIGIBLE_AUTHORITIES:
        return [
            Rejection(
                "ORG_TYPE_NOT_ELIGIBLE",
                "党政机关等不属于承接主体",
                "Government bodies and the like cannot be contractors",
            )
        ]
    out: list[Rejection] = []
    authorities = ELIGIBLE_AUTHORITIES[org.org_type]
    if authorities is not None and org.registration_authority not in authorities:
        out.append(
            Rejection(
                "REGISTRATION_NOT_ELIGIBLE",
                "未在该类组织的登记管理机关依法登记",
                "Not registered with the authority this kind of organisation registers with",
            )
        )
    if org.org_type == "public_institution" and org.public_institution_category not in ELIGIBLE_CATEGORIES:
        out.append(
            Rejection(
                "PUBLIC_INSTITUTION_CATEGORY",
                "事业单位须为公益二类或生产经营类",
                "A public institution must be of category 公益二类 or 生产经营类",
            )
        )
    return out


def risk_flags(org: Organisation, on: date) -> list[str]:
    """Shell-company signs (皮包公司) as of ``on`` — the bid deadline when judging a bid."""
    flags = []
    if org.employees == 0:
        flags.append("NO_EMPLOYEES")
    if org.social_insurance_enrollees == 0:
        flags.append("NO_SOCIAL_INSURANCE_ENROLLEES")
    if registered_under_six_months(org.registered_on, on):
        flags.append("REGISTERED_UNDER_6_MONTHS")
    if not (org.address or "").strip():
        flags.append("NO_ADDRESS")
    return flags


def registered_under_six_months(registered_on: date, on: date) -> bool:
    """Six months are full on the same day of the sixth month after registration (or that month's
    last day when it has no such day, 民法典 第二百零二条): from then on the flag is off."""
    return on < add_months(registered_on, YOUNG_MONTHS)


def debarment_in_force(until: date, today: date) -> bool:
    """contracts.md: in force while today < until (the ``until`` day itself is free)."""
    return today < until
