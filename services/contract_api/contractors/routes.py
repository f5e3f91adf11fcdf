"""Contractors (承接主体, contracts.md *Contractors*): registration with the GB 32100 check,
eligibility, shell-company flags, debarments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, Query, Request, Response
from sqlalchemy import select

from services.common import problems, uscc
from services.common.app import router as make_router
from services.common.auth.deps import (
    READ_ROLES,
    ensure_in_scope,
    ensure_visible,
    listed_region,
    own_org,
    require,
)
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.errors import conflict, invalid_field, not_found
from services.common.exports import exportable
from services.common.ids import PathId
from services.common.models import Contractor, Region
from services.common.months import business_today
from services.common.pagination import Page, Paging
from services.common.regions import parse_code
from services.common.transaction import Session
from services.contract_api.contractors import rules, store
from services.contract_api.contractors.schemas import (
    ContractorCreate,
    ContractorRead,
    DebarmentRead,
    Reason,
)

router = make_router(prefix="/api/v1", tags=["contractors"])

Writer = Annotated[Principal, Depends(require("province_admin", "county_official"))]
Reader = Annotated[Principal, Depends(require(*READ_ROLES, "contractor", scope="contracts:read"))]

PROBLEMS: dict[int | str, dict[str, str]] = {
    401: {"description": "缺少或无效的令牌 (no or invalid token)"},
    403: {"description": "角色无权 (role may not)"},
    404: {"description": "不存在或不在管辖范围内 (unknown or out of scope)"},
    422: {"description": "字段或规则校验失败 (invalid field or rule violation)"},
}


def organisation_of(c: Contractor) -> rules.Organisation:
    return rules.Organisation(
        org_type=c.org_type,
        registration_authority=c.registration_authority,
        public_institution_category=c.public_institution_category,
        employees=c.employees,
        social_insurance_enrollees=c.social_insurance_enrollees,
        registered_on=c.registered_on,
        address=c.address,
    )


def contractor_read(c: Contractor, request: Request, *, today: date, debarred: bool) -> ContractorRead:
    lang = problems.language(request.headers.get("accept-language"))
    facts = organisation_of(c)
    reasons = rules.ineligibility(facts)
    return ContractorRead(
        id=c.id,
        name=c.name,
        uscc=c.uscc,
        org_type=c.org_type,
        registration_authority=c.registration_authority,
        registered_on=c.registered_on,
        public_institution_category=c.public_institution_category,
        employees=c.employees,
        social_insurance_enrollees=c.social_insurance_enrollees,
        address=c.address,
        region_code=c.region_code,
        eligible=not reasons,
        ineligibility_reasons=[Reason(code=r.code, message=r.en if lang == "en" else r.zh) for r in reasons],
        risk_flags=rules.risk_flags(facts, today),
        debarred=debarred,
        version=c.version,
        created_at=c.created_at,
    )


async def contractor_in_scope(session: Session, principal: Principal, contractor_id: int) -> Contractor:
    """The contractor if the caller may see it: its own organisation, or one registered in scope."""
    contractor = await store.get(session, contractor_id)
    if contractor is None:
        raise not_found("承接主体", "contractor")
    ensure_visible(principal, contractor.region_code, contractor.id, "承接主体", "contractor")
    return contractor


@router.post(
    "/contractors",
    status_code=201,
    response_model=ContractorRead,
    responses={**PROBLEMS, 409: {"description": "重复"}},
)
async def create_contractor(
    body: ContractorCreate, principal: Writer, session: Session, request: Request, response: Response
) -> ContractorRead:
    """登记承接主体 (record a contractor: the province anywhere, a county official in its county).
    The code must pass GB 32100 (422 `INVALID_USCC`) and is unique (409 `CONTRACTOR_EXISTS`); the
    answer says whether it may be hired and which shell-company signs it shows."""
    region = parse_code(body.region_code, "region_code")
    if len(region) < 6:
        zh, en = "所在区划须为县或县以下", "The region must be a county or a unit below it"
        raise invalid_field("region_code", "REGION_LEVEL_NOT_ALLOWED", zh, en)
    ensure_in_scope(principal, region, "区划", "region")
    if (await session.execute(select(Region.code).where(Region.code == region))).first() is None:
        raise not_found("区划", "region")
    try:
        code = uscc.parse(body.uscc).value
    except uscc.InvalidUscc:
        zh, en = (
            "统一社会信用代码校验不通过 (GB 32100)",
            "The unified social credit code fails its GB 32100 check",
        )
        raise invalid_field("uscc", "INVALID_USCC", zh, en) from None
    today = business_today(datetime.now(UTC))
    if body.registered_on > today:
        zh, en = "成立日期不能晚于今天", "registered_on cannot be in the future"
        raise invalid_field("registered_on", "DATE_IN_FUTURE", zh, en)
    is_institution = body.org_type == "public_institution"
    if is_institution != (body.public_institution_category is not None):
        zh, en = (
            "事业单位须填且只有事业单位可填类别",
            "Only a public institution has, and must have, a category",
        )
        raise invalid_field("public_institution_category", "CATEGORY_MISMATCH", zh, en)
    if await store.by_uscc(session, code) is not None:
        raise conflict(
            "CONTRACTOR_EXISTS", "该统一社会信用代码已登记", "A contractor with this code is already recorded"
        )
    contractor = Contractor(
        name=body.name.strip(),
        uscc=code,
        org_type=body.org_type,
        registration_authority=body.registration_authority,
        registered_on=body.registered_on,
        public_institution_category=body.public_institution_category,
        employees=body.employees,
        social_insurance_enrollees=body.social_insurance_enrollees,
        address=(body.address or "").strip() or None,
        region_code=region,
    )
    await store.add(session, contractor)
    out = contractor_read(contractor, request, today=today, debarred=False)
    record_change(
        session,
        principal,
        action="created",
        resource="contractor",
        resource_id=str(contractor.id),
        region=region,
        data=out.model_dump(mode="json", exclude={"ineligibility_reasons"}),
    )
    response.headers["Location"] = f"/api/v1/contractors/{contractor.id}"
    return out


@router.get("/contractors/{contractor_id}", response_model=ContractorRead, responses=PROBLEMS)
async def read_contractor(
    contractor_id: PathId, principal: Reader, session: Session, request: Request
) -> ContractorRead:
    """读取承接主体 (officials and auditors in scope; a contractor its own record)."""
    contractor = await contractor_in_scope(session, principal, contractor_id)
    today = business_today(datetime.now(UTC))
    return contractor_read(
        contractor, request, today=today, debarred=await store.is_debarred(session, contractor.id, today)
    )


@router.get(
    "/contractors",
    openapi_extra=exportable("contractors"),
    response_model=Page[ContractorRead],
    responses=PROBLEMS,
)
async def list_contractors(
    principal: Reader,
    session: Session,
    paging: Paging,
    request: Request,
    region: Annotated[str | None, Query(description="区划前缀 (registered in this region and below)")] = None,
) -> Page[ContractorRead]:
    """承接主体名录 (contractors registered in the caller's scope, by id; a contractor sees itself)."""
    code = listed_region(principal, region)
    if principal.role == "contractor" and own_org(principal) is None:
        return Page[ContractorRead](items=[], next_cursor=None)
    rows, cursor = await store.list_contractors(
        session, principal, paging, region=code, own=own_org(principal)
    )
    today = business_today(datetime.now(UTC))
    debarred = await store.debarred_ids(session, [c.id for c in rows], today)
    items = [contractor_read(c, request, today=today, debarred=c.id in debarred) for c in rows]
    return Page[ContractorRead](items=items, next_cursor=cursor)


@router.get(
    "/contractors/{contractor_id}/debarments",
    openapi_extra=exportable("debarments"),
    response_model=list[DebarmentRead],
    responses=PROBLEMS,
)
async def list_debarments(contractor_id: PathId, principal: Reader, session: Session) -> list[DebarmentRead]:
    """禁止参与记录 (every debarment of the contractor, past ones included, with `in_force` today)."""
    contractor = await contractor_in_scope(session, principal, contractor_id)
    today = business_today(datetime.now(UTC))
    return [
        DebarmentRead(
            id=d.id,
            contractor_id=d.contractor_id,
            contract_id=d.contract_id,
            region_code=d.region_code,
            reason=d.reason,
            since=d.since,
            until=d.until,
            in_force=rules.debarment_in_force(d.until, today),
        )
        for d in await store.debarments(session, contractor.id)
    ]
