"""Purchase plans (contracts.md *Service catalog and purchase needs*): draft → submitted →
approved | rejected, with the ESTABLISHMENT_VACANCIES warning."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Response

from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, ensure_in_scope, listed_region, require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.concurrency import etag
from services.common.errors import invalid_field, not_found
from services.common.exports import exportable
from services.common.ids import PathId
from services.common.models import PurchasePlan
from services.common.months import business_today
from services.common.pagination import Page, Paging
from services.common.regions import parse_code
from services.common.transaction import Session
from services.common.transitions import advance, allowed_actions
from services.contract_api.needs.rules import total
from services.contract_api.plans import rules, store
from services.contract_api.plans.schemas import (
    PlanApprove,
    PlanCreate,
    PlanRead,
    PlanReject,
    PlanStatus,
    PlanWarning,
)

router = make_router(prefix="/api/v1", tags=["purchase plans"])

County = Annotated[Principal, Depends(require(*rules.COUNTY))]
Government = Annotated[Principal, Depends(require(*rules.GOVERNMENT))]
Reader = Annotated[Principal, Depends(require(*READ_ROLES, scope="contracts:read"))]
IfMatch = Annotated[str | None, Header(description="乐观锁 (ETag of the version acted on)")]
PROBLEMS: dict[int | str, dict[str, str]] = {
    403: {"description": "角色无权 (role may not)"},
    404: {"description": "不存在或不在管辖范围内 (unknown or out of scope)"},
    409: {"description": "状态不允许 (ILLEGAL_TRANSITION)"},
    412: {"description": "版本不符 (If-Match mismatch)"},
}


def plan_read(plan: PurchasePlan, need_ids: list[int]) -> PlanRead:
    return PlanRead(
        id=plan.id,
        county_code=plan.county_code,
        year=plan.year,
        funding_source=plan.funding_source,
        need_ids=need_ids,
        total=plan.total,
        status=plan.status,
        warnings=[PlanWarning.model_validate(w) for w in plan.warnings],
        justifications=plan.justifications,
        reject_reason=plan.reject_reason,
        allowed_actions=allowed_actions(rules.TRANSITIONS, plan.status),
        version=plan.version,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
    )


async def _plan_in_scope(
    session: Session, principal: Principal, plan_id: int, *, lock: bool = False
) -> PurchasePlan:
    plan = await store.get(session, plan_id, lock=lock)
    if plan is None:
        raise not_found("购买计划", "purchase plan")
    ensure_in_scope(principal, plan.county_code, "购买计划", "purchase plan")
    return plan


async def _answer(session: Session, principal: Principal, plan: PurchasePlan, action: str) -> PlanRead:
    out = plan_read(plan, (await store.need_ids(session, [plan.id]))[plan.id])
    record_change(
        session, principal, action=action, resource="purchase_plan", resource_id=str(plan.id),
        region=plan.county_code, data=out.model_dump(mode="json"),
    )  # fmt: skip
    return out


@router.post("/purchase-plans", status_code=201, response_model=PlanRead, responses=PROBLEMS)
async def create_plan(body: PlanCreate, principal: County, session: Session, response: Response) -> PlanRead:
    """编制购买计划 (the county official sums accepted needs of its county and year). Vacant established
    posts in the county or a township of the plan add the `ESTABLISHMENT_VACANCIES` warning (§二)."""
    county = parse_code(body.county_code, "county_code")
    if len(county) != 6:
        zh, en = "购买计划由县编制", "A plan is made by a county"
        raise invalid_field("county_code", "REGION_LEVEL_NOT_ALLOWED", zh, en)
    ensure_in_scope(principal, county, "区划", "region")
    needs = await store.needs_for_update(session, body.need_ids)
    if any(i not in needs or not needs[i].region_code.startswith(principal.region) for i in body.need_ids):
        raise not_found("购买需求", "purchase need")
    facts = {i: rules.NeedFacts(n.id, n.county_code, n.year, n.status, n.plan_id) for i, n in needs.items()}
    rules.check_needs(body.need_ids, facts, county, body.year)
    units = sorted({county, *(n.region_code for n in needs.values())})
    today = business_today(datetime.now(UTC))
    plan = PurchasePlan(
        county_code=county,
        year=body.year,
        funding_source=body.funding_source,
        total=total(n.estimated_total for n in needs.values()),
        warnings=rules.vacancy_warnings(await store.posts(session, units, today)),
    )
    await store.add(session, plan, list(needs.values()))
    out = await _answer(session, principal, plan, "created")
    response.headers["Location"] = f"/api/v1/purchase-plans/{plan.id}"
    response.headers["ETag"] = etag(plan.version)
    return out


@router.get("/purchase-plans/{plan_id}", response_model=PlanRead, responses=PROBLEMS)
async def read_plan(plan_id: PathId, principal: Reader, session: Session, response: Response) -> PlanRead:
    """读取购买计划 (officials and auditors in scope)."""
    plan = await _plan_in_scope(session, principal, plan_id)
    response.headers["ETag"] = etag(plan.version)
    return plan_read(plan, (await store.need_ids(session, [plan.id]))[plan.id])


@router.get(
    "/purchase-plans",
    openapi_extra=exportable("purchase-plans"),
    response_model=Page[PlanRead],
    responses=PROBLEMS,
)
async def list_plans(
    principal: Reader,
    session: Session,
    paging: Paging,
    region: Annotated[str | None, Query(description="区划前缀 (region and below)")] = None,
    status: Annotated[PlanStatus | None, Query(description="状态 (status)")] = None,
    year: Annotated[int | None, Query(ge=2019, le=2100, description="年度 (year)")] = None,
) -> Page[PlanRead]:
    """购买计划列表 (in the caller's scope, by id)."""
    code = listed_region(principal, region)
    rows, cursor = await store.list_plans(session, principal, paging, region=code, status=status, year=year)
    ids = await store.need_ids(session, [p.id for p in rows])
    return Page[PlanRead](items=[plan_read(p, ids[p.id]) for p in rows], next_cursor=cursor)


async def _move(
    session: Session, principal: Principal, plan_id: int, action: str, if_match: str | None, **values: Any
) -> tuple[PurchasePlan, str]:
    plan = await _plan_in_scope(session, principal, plan_id, lock=True)
    target = advance(rules.TRANSITIONS, plan.status, action, version=plan.version, if_match=if_match)
    if action == "approve":
        rules.check_justifications(plan.warnings, values.get("justifications") or {})
    await store.move(session, plan, target, **values)
    if target == "rejected":
        await store.release_needs(session, plan.id)
    return plan, etag(plan.version)


@router.post("/purchase-plans/{plan_id}/submit", response_model=PlanRead, responses=PROBLEMS)
async def submit_plan(
    plan_id: PathId, principal: County, session: Session, response: Response, if_match: IfMatch = None
) -> PlanRead:
    """报县级人民政府 (the county official sends the plan for approval)."""
    plan, response.headers["ETag"] = await _move(session, principal, plan_id, "submit", if_match)
    return await _answer(session, principal, plan, "submitted")


@router.post("/purchase-plans/{plan_id}/approve", response_model=PlanRead, responses=PROBLEMS)
async def approve_plan(
    plan_id: PathId,
    body: PlanApprove,
    principal: Government,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
) -> PlanRead:
    """同意 (the county government; each warning needs a written justification, 422
    `JUSTIFICATION_REQUIRED`)."""
    justifications = {k: v.strip() for k, v in body.justifications.items()}
    plan, response.headers["ETag"] = await _move(
        session, principal, plan_id, "approve", if_match, justifications=justifications
    )
    return await _answer(session, principal, plan, "approved")


@router.post("/purchase-plans/{plan_id}/reject", response_model=PlanRead, responses=PROBLEMS)
async def reject_plan(
    plan_id: PathId,
    body: PlanReject,
    principal: Government,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
) -> PlanRead:
    """不同意 (the county government, with a reason; the plan's needs may go into another plan)."""
    plan, response.headers["ETag"] = await _move(
        session, principal, plan_id, "reject", if_match, reject_reason=body.reason.strip()
    )
    return await _answer(session, principal, plan, "rejected")
