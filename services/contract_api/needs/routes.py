"""Purchase needs (contracts.md *Service catalog and purchase needs*): draft → submitted →
accepted | returned."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Response

from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, ensure_in_scope, listed_region, require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.concurrency import etag
from services.common.errors import forbidden, invalid_field, not_found
from services.common.exports import exportable
from services.common.ids import PathId
from services.common.models import PurchaseNeed, PurchaseNeedItem, Region
from services.common.pagination import Page, Paging
from services.common.regions import parse_code
from services.common.transaction import Session
from services.common.transitions import advance, allowed_actions
from services.contract_api.needs import rules, store
from services.contract_api.needs.schemas import NeedCreate, NeedItemRead, NeedRead, NeedReturn, NeedStatus

router = make_router(prefix="/api/v1", tags=["purchase needs"])

Author = Annotated[Principal, Depends(require(*rules.AUTHORS))]
County = Annotated[Principal, Depends(require(*rules.COUNTY))]
Reader = Annotated[Principal, Depends(require(*READ_ROLES, scope="contracts:read"))]
IfMatch = Annotated[str | None, Header(description="乐观锁 (ETag of the version acted on)")]

PROBLEMS: dict[int | str, dict[str, str]] = {
    403: {"description": "角色无权 (role may not)"},
    404: {"description": "不存在或不在管辖范围内 (unknown or out of scope)"},
    409: {"description": "状态不允许 (ILLEGAL_TRANSITION)"},
    412: {"description": "版本不符 (If-Match mismatch)"},
}


def need_read(need: PurchaseNeed, items: list[PurchaseNeedItem]) -> NeedRead:
    return NeedRead(
        id=need.id,
        region_code=need.region_code,
        county_code=need.county_code,
        year=need.year,
        items=[
            NeedItemRead(
                catalog_code=i.catalog_code,
                quantity=i.quantity,
                unit=i.unit,
                posting_level=i.posting_level,
                estimated_amount=i.estimated_amount,
            )
            for i in items
        ],
        estimated_total=need.estimated_total,
        justification=need.justification,
        status=need.status,
        return_reason=need.return_reason,
        allowed_actions=allowed_actions(rules.TRANSITIONS, need.status),
        version=need.version,
        created_at=need.created_at,
        updated_at=need.updated_at,
    )


async def _need_in_scope(
    session: Session, principal: Principal, need_id: int, *, lock: bool = False
) -> PurchaseNeed:
    need = await store.get(session, need_id, lock=lock)
    if need is None:
        raise not_found("购买需求", "purchase need")
    ensure_in_scope(principal, need.region_code, "购买需求", "purchase need")
    return need


@router.post("/purchase-needs", status_code=201, response_model=NeedRead, responses=PROBLEMS)
async def create_need(body: NeedCreate, principal: Author, session: Session, response: Response) -> NeedRead:
    """提出购买需求 (a township official for its township, a county official for its county or one
    of its townships). Every line must name a purchasable catalog item (422 `ITEM_NOT_PURCHASABLE`)."""
    region = parse_code(body.region_code, "region_code")
    if len(region) not in (6, 9):
        zh, en = "需求单位须为县或乡镇（街道）", "A need is raised by a county or a township"
        raise invalid_field("region_code", "REGION_LEVEL_NOT_ALLOWED", zh, en)
    ensure_in_scope(principal, region, "区划", "region")
    if await session.get(Region, region) is None:
        raise not_found("区划", "region")
    codes = [i.catalog_code for i in body.items]
    rules.check_items(codes, await store.purchasable(session, codes))
    need = PurchaseNeed(
        region_code=region,
        county_code=region[:6],
        year=body.year,
        justification=body.justification.strip(),
        estimated_total=rules.total(i.estimated_amount for i in body.items),
        author_sub=principal.sub,
    )
    items = [PurchaseNeedItem(position=n, **i.model_dump()) for n, i in enumerate(body.items, start=1)]
    await store.add(session, need, items)
    out = need_read(need, items)
    record_change(
        session, principal, action="created", resource="purchase_need", resource_id=str(need.id),
        region=region, data=out.model_dump(mode="json"),
    )  # fmt: skip
    response.headers["Location"] = f"/api/v1/purchase-needs/{need.id}"
    response.headers["ETag"] = etag(need.version)
    return out


@router.get("/purchase-needs/{need_id}", response_model=NeedRead, responses=PROBLEMS)
async def read_need(need_id: PathId, principal: Reader, session: Session, response: Response) -> NeedRead:
    """读取购买需求 (officials and auditors in scope)."""
    need = await _need_in_scope(session, principal, need_id)
    response.headers["ETag"] = etag(need.version)
    return need_read(need, (await store.items_of(session, [need.id]))[need.id])


@router.get(
    "/purchase-needs",
    openapi_extra=exportable("purchase-needs"),
    response_model=Page[NeedRead],
    responses=PROBLEMS,
)
async def list_needs(
    principal: Reader,
    session: Session,
    paging: Paging,
    region: Annotated[str | None, Query(description="区划前缀 (region and below)")] = None,
    status: Annotated[NeedStatus | None, Query(description="状态 (status)")] = None,
    year: Annotated[int | None, Query(ge=2019, le=2100, description="年度 (year)")] = None,
) -> Page[NeedRead]:
    """购买需求列表 (in the caller's scope, by id)."""
    code = listed_region(principal, region)
    rows, cursor = await store.list_needs(session, principal, paging, region=code, status=status, year=year)
    items = await store.items_of(session, [n.id for n in rows])
    return Page[NeedRead](items=[need_read(n, items[n.id]) for n in rows], next_cursor=cursor)


async def _move(
    session: Session,
    principal: Principal,
    need_id: int,
    action: str,
    if_match: str | None,
    reason: str | None,
) -> tuple[NeedRead, str]:
    need = await _need_in_scope(session, principal, need_id, lock=True)
    target = advance(rules.TRANSITIONS, need.status, action, version=need.version, if_match=if_match)
    if action == "submit" and need.author_sub != principal.sub:
        raise forbidden("只有需求的提出人可以报送", "Only the need's author may submit it")
    await store.move(session, need, target, reason)
    out = need_read(need, (await store.items_of(session, [need.id]))[need.id])
    record_change(
        session, principal, action=action + ("ted" if action == "submit" else "ed"), resource="purchase_need",
        resource_id=str(need.id), region=need.region_code, data=out.model_dump(mode="json"),
    )  # fmt: skip
    return out, etag(need.version)


@router.post("/purchase-needs/{need_id}/submit", response_model=NeedRead, responses=PROBLEMS)
async def submit_need(
    need_id: PathId, principal: Author, session: Session, response: Response, if_match: IfMatch = None
) -> NeedRead:
    """报送 (its author sends a draft, or a returned need again, to the county)."""
    out, response.headers["ETag"] = await _move(session, principal, need_id, "submit", if_match, None)
    return out


@router.post("/purchase-needs/{need_id}/accept", response_model=NeedRead, responses=PROBLEMS)
async def accept_need(
    need_id: PathId, principal: County, session: Session, response: Response, if_match: IfMatch = None
) -> NeedRead:
    """采纳 (the county official of the need's county; an accepted need can go into a plan)."""
    out, response.headers["ETag"] = await _move(session, principal, need_id, "accept", if_match, None)
    return out


@router.post("/purchase-needs/{need_id}/return", response_model=NeedRead, responses=PROBLEMS)
async def return_need(
    need_id: PathId,
    body: NeedReturn,
    principal: County,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
) -> NeedRead:
    """退回 (the county official, with a reason; the author may change nothing and submit again)."""
    out, response.headers["ETag"] = await _move(
        session, principal, need_id, "return", if_match, body.reason.strip()
    )
    return out
