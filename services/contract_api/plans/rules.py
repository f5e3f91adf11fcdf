"""Purchase plans (购买计划, notice §二 and §三(四)): the county sums accepted needs and its government
approves (由县级民政部门汇总报县级地方人民政府同意). §二: buy services only once the established posts
are filled (在编制内人员配备到位的前提下), so vacant posts raise a warning that approval must justify.

Pure: the lifecycle table, the checks on the needs a plan takes, the vacancy warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.common.errors import FieldError, invalid
from services.common.transitions import Step

COUNTY = frozenset({"county_official"})
GOVERNMENT = frozenset({"county_government"})
VACANCIES = "ESTABLISHMENT_VACANCIES"

TRANSITIONS: Mapping[tuple[str, str], Step] = {
    ("draft", "submit"): Step("submitted", COUNTY),
    ("submitted", "approve"): Step("approved", GOVERNMENT),
    ("submitted", "reject"): Step("rejected", GOVERNMENT),
}


@dataclass(frozen=True)
class NeedFacts:
    id: int
    county_code: str
    year: int
    status: str
    plan_id: int | None


def check_needs(requested: Sequence[int], found: Mapping[int, NeedFacts], county: str, year: int) -> None:
    """Every need exists in the county (else 404 upstream), is accepted, of the plan's year and in
    no other plan; every failing need is listed."""
    errors = []
    for i, need_id in enumerate(requested):
        need = found[need_id]
        field = f"need_ids[{i}]"
        if need.status != "accepted":
            errors.append(
                FieldError(
                    field, "NEED_NOT_ACCEPTED", "需求尚未被县级民政部门采纳", "The need is not accepted"
                )
            )
        elif need.year != year:
            errors.append(
                FieldError(
                    field, "NEED_YEAR_MISMATCH", "需求年度与计划不一致", "The need is for another year"
                )
            )
        elif need.plan_id is not None:
            errors.append(
                FieldError(field, "NEED_ALREADY_PLANNED", "需求已纳入其他计划", "The need is in another plan")
            )
        elif need.county_code != county:
            errors.append(
                FieldError(field, "NEED_OUTSIDE_COUNTY", "需求不属于本县", "The need is of another county")
            )
    if len(set(requested)) != len(requested):
        errors.append(FieldError("need_ids", "DUPLICATE_NEED", "需求重复", "A need is listed twice"))
    if errors:
        raise invalid(
            "NEEDS_NOT_PLANNABLE", "部分需求不能纳入计划", "Some needs cannot go into the plan", errors
        )


def vacancy_warnings(posts: Mapping[str, tuple[int, int]]) -> list[dict[str, Any]]:
    """``posts``: unit → (authorized, in post). One warning listing every unit with vacant posts."""
    vacant = [
        {"region_code": unit, "authorized": authorized, "in_post": in_post}
        for unit, (authorized, in_post) in sorted(posts.items())
        if authorized > in_post
    ]
    return [{"code": VACANCIES, "units": vacant}] if vacant else []


def check_justifications(warnings: Sequence[Mapping[str, Any]], justifications: Mapping[str, str]) -> None:
    """Approval answers every warning in writing (422 ``JUSTIFICATION_REQUIRED`` naming the missing)."""
    missing = [w["code"] for w in warnings if not (justifications.get(w["code"]) or "").strip()]
    if missing:
        raise invalid(
            "JUSTIFICATION_REQUIRED",
            "审批须对每项提示作出书面说明：" + "、".join(missing),
            "Approval needs a written justification of each warning: " + ", ".join(missing),
            [
                FieldError(f"justifications.{code}", "JUSTIFICATION_REQUIRED", "须书面说明", "Justify it")
                for code in missing
            ],
        )
