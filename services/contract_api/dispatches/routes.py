"""Dispatch (派遣, contracts.md *Dispatch*): a contractor posts a person to a post its active contract
buys; the person must meet staffing_api's conditions and the village its ceiling. A dispatch counts at
once in quotas, eligibility (`ALREADY_DISPATCHED`) and work logs, which read the same table."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from services.common.app import router as make_router
from services.common.auth.deps import (
    READ_ROLES,
    ensure_visible,
    listed_scope,
    require,
)
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.errors import FieldError, conflict, invalid, not_found
from services.common.exports import exportable
from services.common.ids import MAX_ID, PathId
from services.common.models import Contract, Dispatch
from services.common.pagination import Page, Paging
from services.common.regions import parse_code
from services.common.transaction import Session
from services.contract_api.dispatches import rules, store
from services.contract_api.dispatches.schemas import DispatchCreate, DispatchEnd, DispatchRead
from services.staffing_api import dispatch_checks

router = make_router(prefix="/api/v1", tags=["dispatches"])
Contractor = Annotated[Principal, Depends(require("contractor"))]
Ender = Annotated[Principal, Depends(require("contractor", "county_official"))]
Reader = Annotated[Principal, Depends(require(*READ_ROLES, "contractor", "worker", scope="contracts:read"))]
PROBLEMS: dict[int | str, dict[str, str]] = {
    403: {"description": "角色无权 (role may not)"},
    404: {"description": "不存在或不在管辖范围内 (unknown or out of scope)"},
    409: {"description": "派遣已终止 (DISPATCH_ENDED)"},
    422: {"description": "规则校验失败 (a dispatch rejection, see contracts.md)"},
}


async def visible_dispatch(
    session: Session, principal: Principal, dispatch_id: int, *, lock: bool = False
) -> Dispatch:
    """The dispatch if the caller may see it: a worker its own, a contractor its contracts', officials
    by the posting region."""
    dispatch = await store.get(session, dispatch_id, lock=lock)
    if dispatch is None:
        raise not_found("派遣", "dispatch")
    if principal.role == "worker":
        if principal.sub != str(dispatch.person_id):
            raise not_found("派遣", "dispatch")
        return dispatch
    contract = await store.contract_of(session, dispatch)
    ensure_visible(principal, dispatch.region_code, contract.contractor_id, "派遣", "dispatch")
    return dispatch


async def _own_active_contract(session: Session, principal: Principal, contract_id: int) -> Contract:
    contract = await session.get(Contract, contract_id, with_for_update=True, populate_existing=True)
    if contract is None:
        raise not_found("合同", "contract")
    ensure_visible(principal, contract.county_code, contract.contractor_id, "合同", "contract")
    if contract.status != "active":
        raise invalid(
            "CONTRACT_NOT_ACTIVE",
            "合同不在履行中，不能派遣",
            "Workers are dispatched only under an active contract",
        )
    return contract


@router.post("/dispatches", status_code=201, response_model=DispatchRead, responses=PROBLEMS)
async def create_dispatch(
    body: DispatchCreate, principal: Contractor, session: Session, response: Response
) -> DispatchRead:
    """派遣 (the contractor, under its active contract). Rejections (422): `CONTRACT_NOT_ACTIVE`,
    `LABOR_CONTRACT_MISSING`, `DECLARATIONS_REQUIRED`, `POSTS_EXHAUSTED`, `ON_ESTABLISHMENT_ROSTER`,
    `ALREADY_DISPATCHED`, `ASSISTANT_INELIGIBLE` (with the reasons in `errors`), `QUOTA_EXCEEDED`."""
    region = parse_code(body.region_code, "region_code")
    rules.check_level(body.posting_level, region)
    contract = await _own_active_contract(session, principal, body.contract_id)
    rules.check_labor_contract(body.labor_contract_signed_on, body.start_date)
    declarations = None
    if rules.needs_declarations(body.posting_level):
        if body.declarations is None:
            raise invalid(
                "DECLARATIONS_REQUIRED",
                "村（社区）岗位须提交承接主体的书面确认",
                "Village and community posts need the contractor's declarations",
            )
        declarations = dispatch_checks.Declarations(**body.declarations.model_dump())
    person = await store.person(session, body.person_id)
    # A contractor dispatches the persons it registered or persons of the contract's county.
    if person is None or not (
        person.created_by_org_id == principal.org_id or person.region_code.startswith(contract.county_code)
    ):
        raise not_found("人员", "person")
    if not region.startswith(contract.county_code) or not await store.region_exists(session, region):
        rules.check_posts(0, 0)
    await store.lock_unit(session, region)
    occupied = await store.occupied(session, contract.id, body.posting_level, region, body.start_date)
    rules.check_posts(rules.posts_bought(contract.posts or [], body.posting_level, region), occupied)
    failing = await dispatch_checks.person_failings(session, person, body.start_date, declarations)
    for code, zh, en in (
        (
            "ON_ESTABLISHMENT_ROSTER",
            "在编在岗人员不得派遣（两头占）",
            "Established staff cannot be dispatched",
        ),
        ("ALREADY_DISPATCHED", "该人员已有在岗派遣", "The person already holds an active dispatch"),
    ):
        if any(f.code == code for f in failing):
            raise invalid(code, zh, en)
    if failing:
        raise invalid(
            "ASSISTANT_INELIGIBLE",
            "不符合社会救助协理员条件：" + "；".join(f.zh for f in failing),
            "Not eligible as a social-assistance assistant: " + "; ".join(f.en for f in failing),
            [FieldError("person_id", f.code, f.zh, f.en) for f in failing],
        )
    if body.posting_level == "village":
        room = await dispatch_checks.village_room(session, region, body.start_date)
        if room is not None and room.full:
            raise invalid(
                "QUOTA_EXCEEDED",
                f"该村（社区）配备上限 {room.allowed_max} 人，已配备 {room.total} 人",
                f"The village's ceiling of {room.allowed_max} is reached ({room.total} in post)",
            )
    dispatch = Dispatch(
        contract_id=contract.id,
        person_id=person.id,
        posting_level=body.posting_level,
        region_code=region,
        monthly_wage=body.monthly_wage,
        start_date=body.start_date,
        labor_contract_signed_on=body.labor_contract_signed_on,
        declarations=body.declarations.model_dump() if body.declarations else None,
    )
    await store.add(session, dispatch)
    out = DispatchRead.model_validate(dispatch)
    record_change(
        session, principal, action="created", resource="dispatch", resource_id=str(dispatch.id),
        region=region, data=out.model_dump(mode="json"),
    )  # fmt: skip
    response.headers["Location"] = f"/api/v1/dispatches/{dispatch.id}"
    return out


@router.post("/dispatches/{dispatch_id}/end", response_model=DispatchRead, responses=PROBLEMS)
async def end_dispatch(
    dispatch_id: PathId, body: DispatchEnd, principal: Ender, session: Session
) -> DispatchRead:
    """终止派遣 (the contractor, or the county official of the posting region): the last day, inclusive."""
    dispatch = await visible_dispatch(session, principal, dispatch_id, lock=True)
    if dispatch.end_date is not None:
        raise conflict("DISPATCH_ENDED", "该派遣已终止", "This dispatch has already ended")
    rules.check_end(dispatch.start_date, body.end_date)
    dispatch.end_date, dispatch.end_reason = body.end_date, body.reason
    await session.flush()
    out = DispatchRead.model_validate(dispatch)
    record_change(
        session, principal, action="ended", resource="dispatch", resource_id=str(dispatch.id),
        region=dispatch.region_code, data=out.model_dump(mode="json"),
    )  # fmt: skip
    return out


@router.get("/dispatches/{dispatch_id}", response_model=DispatchRead, responses=PROBLEMS)
async def read_dispatch(dispatch_id: PathId, principal: Reader, session: Session) -> DispatchRead:
    """读取派遣 (officials in scope of the posting region; the contractor its own; the worker its own)."""
    return DispatchRead.model_validate(await visible_dispatch(session, principal, dispatch_id))


@router.get(
    "/dispatches",
    openapi_extra=exportable("dispatches"),
    response_model=Page[DispatchRead],
    responses=PROBLEMS,
)
async def list_dispatches(
    principal: Reader,
    session: Session,
    paging: Paging,
    region: Annotated[str | None, Query(description="派驻区划前缀 (posting region and below)")] = None,
    contract_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="合同 (contract)")] = None,
    ongoing: Annotated[
        bool | None, Query(description="仅在岗 true / 仅已终止 false (ongoing or ended)")
    ] = None,
) -> Page[DispatchRead]:
    """派遣列表 (by id; a contractor its contracts' dispatches, a worker its own)."""
    code, own = listed_scope(principal, region)
    rows, cursor = await store.list_dispatches(
        session, principal, paging, region=code, own=own, contract_id=contract_id, ongoing=ongoing
    )
    return Page[DispatchRead](items=[DispatchRead.model_validate(d) for d in rows], next_cursor=cursor)
