"""Who may be hired (§三(二)), shell-company flags (§六(一)), debarment in force (§六(二)): pure rules
at and around each boundary."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.common.months import add_months
from services.contract_api.contractors.rules import (
    Organisation,
    debarment_in_force,
    ineligibility,
    registered_under_six_months,
    risk_flags,
)

SOUND = Organisation(
    org_type="social_organization",
    registration_authority="civil_affairs",
    public_institution_category=None,
    employees=12,
    social_insurance_enrollees=10,
    registered_on=date(2020, 5, 1),
    address="昆明市五华区华山南路 1 号",
)


@pytest.mark.parametrize(
    ("org_type", "authority", "category", "reasons"),
    [
        ("social_organization", "civil_affairs", None, []),
        ("social_organization", "state_council_exempt", None, []),
        ("social_organization", "market_regulation", None, ["REGISTRATION_NOT_ELIGIBLE"]),
        ("public_institution", "establishment_office", "public_welfare_2", []),
        ("public_institution", "establishment_office", "production_operation", []),
        ("public_institution", "establishment_office", "public_welfare_1", ["PUBLIC_INSTITUTION_CATEGORY"]),
        ("public_institution", "other", "administrative", ["PUBLIC_INSTITUTION_CATEGORY"]),
        ("enterprise", "market_regulation", None, []),
        ("enterprise", "civil_affairs", None, ["REGISTRATION_NOT_ELIGIBLE"]),
        ("other_institution", "industry_authority", None, []),
        ("other_institution", "other", None, ["REGISTRATION_NOT_ELIGIBLE"]),
        ("government_body", "establishment_office", None, ["ORG_TYPE_NOT_ELIGIBLE"]),
    ],
)
def test_eligibility(org_type: str, authority: str, category: str | None, reasons: list[str]) -> None:
    org = replace(
        SOUND, org_type=org_type, registration_authority=authority, public_institution_category=category
    )
    assert [r.code for r in ineligibility(org)] == reasons


def test_sound_organisation_has_no_flags() -> None:
    assert risk_flags(SOUND, date(2026, 12, 1)) == []


@pytest.mark.parametrize(
    ("employees", "enrollees", "flags"),
    [
        (0, 0, ["NO_EMPLOYEES", "NO_SOCIAL_INSURANCE_ENROLLEES"]),
        (1, 0, ["NO_SOCIAL_INSURANCE_ENROLLEES"]),
        (1, 1, []),
    ],
)
def test_people_flags(employees: int, enrollees: int, flags: list[str]) -> None:
    org = replace(SOUND, employees=employees, social_insurance_enrollees=enrollees)
    assert risk_flags(org, date(2026, 12, 1)) == flags


@pytest.mark.parametrize("address", [None, "", "   "])
def test_no_address(address: str | None) -> None:
    assert risk_flags(replace(SOUND, address=address), date(2026, 12, 1)) == ["NO_ADDRESS"]


@pytest.mark.parametrize(
    ("registered", "on", "young"),
    [
        (date(2026, 1, 15), date(2026, 7, 14), True),  # a day short of six months
        (date(2026, 1, 15), date(2026, 7, 15), False),  # six months to the day
        (date(2026, 1, 15), date(2026, 7, 16), False),
        (date(2025, 8, 31), date(2026, 2, 27), True),  # no 31 February: the month's last day counts
        (date(2025, 8, 31), date(2026, 2, 28), False),
        (date(2027, 8, 31), date(2028, 2, 28), True),  # leap year: 29 February
        (date(2027, 8, 31), date(2028, 2, 29), False),
        (date(2026, 12, 1), date(2026, 12, 1), True),  # registered today
    ],
)
def test_registered_under_six_months(registered: date, on: date, young: bool) -> None:
    assert registered_under_six_months(registered, on) is young
    flagged = "REGISTERED_UNDER_6_MONTHS" in risk_flags(replace(SOUND, registered_on=registered), on)
    assert flagged is young


@pytest.mark.parametrize(
    ("today", "in_force"),
    [(date(2029, 1, 14), True), (date(2029, 1, 15), False), (date(2029, 1, 16), False)],
)
def test_debarment_in_force_while_today_is_before_until(today: date, in_force: bool) -> None:
    until = add_months(date(2026, 1, 15), 36)
    assert until == date(2029, 1, 15)
    assert debarment_in_force(until, today) is in_force
