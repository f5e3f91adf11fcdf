"""Staffing rule sets and the quota calculator (staffing.md, *Staffing rule sets*)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, require
from services.common.auth.tokens import ROLES, Principal
from services.common.changes import record_change
from services.common.errors import FieldError, conflict, invalid, not_found
from services.common.models import StaffingRuleSet
from services.common.months import business_today
from services.common.transaction import session_of
from services.staffing_api.quotas import rules, store
from services.staffing_api.quotas.schemas import QuotaCompute, QuotaComputed, RuleSetCreate, RuleSetRead

router = make_router(prefix="/api/v1", tags=["quotas"])
Session = Annotated[AsyncSession, Depends(session_of)]
Anyone = Annotated[Principal, Depends(require(*ROLES))]
Reader = Annotated[Principal, Depends(require(*READ_ROLES, scope="staffing:read"))]
ProvinceAdmin = Annotated[Principal, Depends(require("province_admin"))]


async def applicable_rule_set(
    session: AsyncSession, rule_set_id: int | None, on: datetime
) -> StaffingRuleSet:
    if rule_set_id is not None:
        found = await store.rule_set(session, rule_set_id)
        if found is None:
            zh, en = "规则集不存在", "No such rule set"
            raise invalid(
                "RULE_SET_NOT_FOUND", zh, en, [FieldError("rule_set_id", "RULE_SET_NOT_FOUND", zh, en)]
            )
        return found
    in_effect = await store.rule_set_in_effect(session, business_today(on))
    if in_effect is None:
        raise invalid(
            "NO_RULE_SET_IN_EFFECT", "该日期没有生效的配备标准", "No staffing rule set is in effect then"
        )
    return in_effect


@router.get("/staffing-rule-sets", response_model=list[RuleSetRead])
async def list_rule_sets(_principal: Reader, session: Session) -> list[RuleSetRead]:
    """配备标准规则集 (staffing rule sets, oldest first; quotas use the one in effect at `as_of`)."""
    return [RuleSetRead.model_validate(r) for r in await store.rule_sets(session)]


@router.get("/staffing-rule-sets/{rule_set_id}", response_model=RuleSetRead)
async def read_rule_set(rule_set_id: int, _principal: Reader, session: Session) -> RuleSetRead:
    """读取规则集 (one rule set)."""
    found = await store.rule_set(session, rule_set_id)
    if found is None:
        raise not_found("规则集", "rule set")
    return RuleSetRead.model_validate(found)


@router.post("/staffing-rule-sets", status_code=201, response_model=RuleSetRead)
async def create_rule_set(
    body: RuleSetCreate, principal: ProvinceAdmin, session: Session, response: Response
) -> RuleSetRead:
    """新增规则集 (a new policy version; the province only). One rule set per effective date."""
    if await store.effective_date_taken(session, body.effective_from):
        raise conflict(
            "RULE_SET_EXISTS", "该生效日期已有规则集", "A rule set already takes effect on that date"
        )
    row = StaffingRuleSet(
        name=body.name,
        document=body.document,
        effective_from=body.effective_from,
        parameters=body.parameters.model_dump(mode="json"),
    )
    await store.add_rule_set(session, row)
    out = RuleSetRead.model_validate(row)
    record_change(
        session,
        principal,
        action="created",
        resource="staffing_rule_set",
        resource_id=str(row.id),
        region=principal.region,
        data=out.model_dump(mode="json"),
    )
    response.headers["Location"] = f"/api/v1/staffing-rule-sets/{row.id}"
    return out


@router.post("/quotas/compute", response_model=QuotaComputed)
async def compute_quota(body: QuotaCompute, _principal: Anyone, session: Session) -> QuotaComputed:
    """配备标准计算器 (pure calculator: the minimum and ceiling for a figure, any role).
    Counties and townships take 低保对象数, villages and communities 常住人口."""
    field = "population" if body.level == "village" else "dibao_recipients"
    figure = body.population if body.level == "village" else body.dibao_recipients
    if figure is None:
        zh, en = f"{body.level} 层级须提供 {field}", f"{field} is required at level {body.level}"
        raise invalid("FIGURE_REQUIRED", zh, en, [FieldError(field, "FIGURE_REQUIRED", zh, en)])
    rule_set = await applicable_rule_set(session, body.rule_set_id, datetime.now(UTC))
    q = rules.quota(body.level, figure, rules.RuleParameters.model_validate(rule_set.parameters))
    return QuotaComputed(required_min=q.required_min, allowed_max=q.allowed_max, rule_set_id=rule_set.id)
