"""社会救助协理员 conditions (§二(二)): pure, every failing condition listed, not just the first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.common.errors import Rejection
from services.common.idnumbers import age_on

EDUCATION_ORDER = {
    "none": 0,
    "primary": 1,
    "junior_high": 2,
    "senior_high": 3,
    "secondary_vocational": 3,
    "junior_college": 4,
    "bachelor": 5,
    "postgraduate": 6,
}
MIN_AGE, MAX_AGE = 18, 50


@dataclass(frozen=True)
class Facts:
    birth_date: date | None  # None: the ID number failed its check
    education: str
    health_confirmed: bool
    law_abiding_confirmed: bool
    has_other_job: bool
    on_establishment_roster: bool
    already_dispatched: bool


def assistant_failings(facts: Facts, on: date) -> tuple[int | None, list[Rejection]]:
    """年龄18至50周岁（a person is 50 until the day before the 51st birthday）、初中以上文化程度
    （初中 included）、身体健康、拥护党的领导遵纪守法、专职不得再兼职; plus the roster (两头占, §三(三))
    and one dispatch at a time."""
    out: list[Rejection] = []
    age = None
    if facts.birth_date is None:
        out.append(Rejection("INVALID_ID_NUMBER", "身份证号码校验不通过", "The ID number fails its check"))
    else:
        age = age_on(facts.birth_date, on)
        if age < MIN_AGE:
            out.append(Rejection("AGE_BELOW_MIN", f"年龄 {age} 周岁，未满 18 周岁", f"Age {age} is below 18"))
        if age > MAX_AGE:
            out.append(Rejection("AGE_ABOVE_MAX", f"年龄 {age} 周岁，超过 50 周岁", f"Age {age} is above 50"))
    if EDUCATION_ORDER[facts.education] < EDUCATION_ORDER["junior_high"]:
        out.append(
            Rejection("EDUCATION_TOO_LOW", "文化程度须初中以上", "Education must be junior high or above")
        )
    if not facts.health_confirmed:
        out.append(Rejection("HEALTH_NOT_CONFIRMED", "未确认身体健康", "Good health is not confirmed"))
    if not facts.law_abiding_confirmed:
        out.append(
            Rejection(
                "LAW_ABIDING_NOT_CONFIRMED", "未确认拥护党的领导、遵纪守法", "Law-abidance is not confirmed"
            )
        )
    if facts.has_other_job:
        out.append(
            Rejection(
                "HAS_OTHER_JOB", "须专职从事协理工作，不得兼职", "Must work full-time, with no other job"
            )
        )
    if facts.on_establishment_roster:
        out.append(
            Rejection(
                "ON_ESTABLISHMENT_ROSTER",
                "在编在岗人员不得同时派遣（两头占）",
                "Established staff cannot be dispatched",
            )
        )
    if facts.already_dispatched:
        out.append(Rejection("ALREADY_DISPATCHED", "已有在岗派遣", "Already holds an active dispatch"))
    return age, out
