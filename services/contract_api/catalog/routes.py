"""The service catalog (contracts.md *Service catalog*, notice §三(三)): what may be bought, and the
negative list of what may not."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.errors import conflict, invalid_field
from services.common.exports import exportable
from services.common.models import CatalogItem
from services.common.transaction import Session
from services.contract_api.catalog import store
from services.contract_api.catalog.schemas import CatalogItemRead, CatalogItemWrite

router = make_router(prefix="/api/v1", tags=["service catalog"])
Reader = Annotated[Principal, Depends(require(*READ_ROLES, "contractor", scope="contracts:read"))]
Manager = Annotated[Principal, Depends(require("province_admin"))]


@router.get(
    "/service-catalog", openapi_extra=exportable("service-catalog"), response_model=list[CatalogItemRead]
)
async def list_catalog(
    _principal: Reader,
    session: Session,
    purchasable: Annotated[bool | None, Query(description="只看可购买 (true) 或负面清单 (false)")] = None,
) -> list[CatalogItemRead]:
    """服务目录 (every item: purchasable ones first, then the negative list; the same province-wide)."""
    return [CatalogItemRead.model_validate(i) for i in await store.all_items(session, purchasable)]


@router.post(
    "/service-catalog",
    status_code=201,
    response_model=CatalogItemRead,
    responses={409: {"description": "代码已存在 (code taken)"}},
)
async def add_catalog_item(
    body: CatalogItemWrite, principal: Manager, session: Session, response: Response
) -> CatalogItemRead:
    """新增目录项 (province_admin: a purchasable item, or one more entry of the negative list with
    its reason)."""
    if not body.purchasable and not (body.reason or "").strip():
        zh, en = "负面清单项须写明原因", "An item that may not be bought needs its reason"
        raise invalid_field("reason", "REASON_REQUIRED", zh, en)
    if await store.get(session, body.code) is not None:
        raise conflict("CATALOG_ITEM_EXISTS", "该目录代码已存在", "A catalog item with this code exists")
    item = CatalogItem(**body.model_dump())
    await store.add(session, item)
    out = CatalogItemRead.model_validate(item)
    record_change(
        session,
        principal,
        action="created",
        resource="catalog_item",
        resource_id=item.code,
        region=principal.region,
        data=out.model_dump(mode="json"),
    )
    response.headers["Location"] = "/api/v1/service-catalog"
    return out
