"""The change feed and the audit log (README, *Change feed* and *Audit*); served by staffing_api."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.common.app import router as make_router
from services.common.auth.deps import ensure_in_scope, require, scope_filter
from services.common.auth.tokens import Principal
from services.common.changes import feed_horizon
from services.common.exports import exportable
from services.common.ids import MAX_ID
from services.common.models import AuditEvent, Event
from services.common.pagination import Page, Paging, paginate
from services.common.regions import parse_code
from services.common.transaction import Session

router = make_router(prefix="/api/v1", tags=["feed"])
FeedReader = Annotated[
    Principal,
    Depends(
        require(
            "province_admin",
            "auditor",
            "prefecture_official",
            "county_official",
            "county_government",
            "township_official",
            "finance_official",
            scope="events:read",
        )
    ),
]
AuditReader = Annotated[Principal, Depends(require("auditor", "province_admin"))]


class EventRead(BaseModel):
    id: int = Field(
        description="事件序号 (strictly increasing in the order readers see them; not consecutive)"
    )
    type: str = Field(description="事件类型 (e.g. region.created)")
    resource: str = Field(description="资源类型 (resource type)")
    resource_id: str = Field(description="资源标识 (resource id)")
    region: str = Field(description="所属区划 (region code)")
    occurred_at: datetime = Field(description="发生时间 (commit time)")
    data: dict[str, Any] = Field(description="变更内容 (the resource as changed)")


class EventPage(BaseModel):
    items: list[EventRead] = Field(description="事件 (events after `after`, in id order)")
    next_after: int | None = Field(description="下次请求的 after (last id returned; null when none)")


class AuditRead(BaseModel):
    id: int = Field(description="审计序号 (audit id)")
    occurred_at: datetime = Field(description="时间 (when)")
    service: str = Field(description="服务 (service that made the change)")
    sub: str = Field(description="操作人 (who: token subject)")
    role: str = Field(description="角色 (role)")
    action: str = Field(description="操作 (action)")
    resource: str = Field(description="资源类型 (resource)")
    resource_id: str = Field(description="资源标识 (resource id)")
    region: str = Field(description="所属区划 (region)")
    request_id: str = Field(description="请求编号 (request id)")


@router.get(
    "/events", response_model=EventPage, openapi_extra=exportable("events", page=("after", "next_after"))
)
async def list_events(
    principal: FeedReader,
    session: Session,
    after: Annotated[
        int, Query(ge=0, le=MAX_ID, description="只返回序号大于此值的事件 (events after this id)")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500, description="条数上限 (max events)")] = 50,
) -> EventPage:
    """变更事件流 (change feed for inter-agency exchange, in commit order, scoped by region).
    Poll with `after` = the last id seen; ids never appear behind a reader. An event is served once
    every transaction that started writing before it has ended (usually milliseconds)."""
    stmt = (
        select(Event)
        .where(Event.id > after, Event.id < feed_horizon(), scope_filter(Event.region, principal))
        .order_by(Event.id)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).scalars().all()
    items = [EventRead.model_validate(r, from_attributes=True) for r in rows]
    return EventPage(items=items, next_after=items[-1].id if items else None)


@router.get("/audit-events", openapi_extra=exportable("audit-events"), response_model=Page[AuditRead])
async def list_audit_events(
    principal: AuditReader,
    session: Session,
    paging: Paging,
    region: Annotated[str | None, Query(description="区划前缀 (region and below)")] = None,
) -> Page[AuditRead]:
    """审计日志 (who changed what, when, under which request id; auditors and the province)."""
    stmt = select(AuditEvent).where(scope_filter(AuditEvent.region, principal))
    if region is not None:
        code = parse_code(region, "region")
        ensure_in_scope(principal, code)
        stmt = stmt.where(AuditEvent.region.startswith(code, autoescape=True))
    rows, cursor = await paginate(session, stmt, AuditEvent.id, paging)
    return Page[AuditRead](
        items=[AuditRead.model_validate(r, from_attributes=True) for r in rows], next_cursor=cursor
    )
