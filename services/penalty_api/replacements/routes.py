"""Replacement requests (penalties.md *Replacement requests*): the county asks, the contractor
answers with the new dispatch on the same contract and post once the old one has ended."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query, Response

from services.common.app import router as make_router
from services.common.auth.deps import (
    NOBODY,
    READ_ROLES,
    ensure_in_scope,
    ensure_visible,
    listed_scope,
    require,
)
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.errors import conflict, invalid_field, not_found
from services.common.exports import exportable
from services.common.ids import PathId
from services.common.models import ReplacementRequest
from services.common.pagination import Page, Paging
from services.common.transaction import Session
from services.penalty_api.ledger import store as ledger
from services.penalty_api.replacements import rules, store
from services.penalty_api.replacements.schemas import Fulfil, ReplacementCreate, ReplacementRead, Status
from services.penalty_api.violations import store as violations
from services.penalty_api.violations.routes import PROBLEMS, today

router = make_router(prefix="/api/v1", tags=["replacements"])
County = Annotated[Principal, Depends(require("county_official"))]
Contractor = Annotated[Principal, Depends(require("contractor"))]
Reader = Annotated[Principal, Depends(require(*READ_ROLES, "contractor", scope="penalties:read"))]


def replacement_read(r: ReplacementRequest) -> ReplacementRead:
    return ReplacementRead(
        id=r.id, dispatch_id=r.dispatch_id, contract_id=r.contract_id, region_code=r.region_code,
        violation_id=r.violation_id, reason=r.reason, due_date=r.due_date, new_dispatch_id=r.new_dispatch_id,
        fulfilled_at=r.fulfilled_at, status=rules.status(r.new_dispatch_id is not None, r.due_date, today()),
        created_at=r.created_at,
    )  # fmt: skip


def _changed(session: Session, principal: Principal, r: ReplacementRequest, action: str) -> ReplacementRead:
    out = replacement_read(r)
    record_change(
        session, principal, action=action, resource="replacement_request", resource_id=str(r.id),
        region=r.region_code, data=out.model_dump(mode="json"),
    )  # fmt: skip
    return out


async def _visible(
    session: Session, principal: Principal, request_id: int, *, lock: bool = False
) -> ReplacementRequest:
    found = await store.get(session, request_id, lock=lock)
    if found is None:
        raise not_found("更换要求", "replacement request")
    contract = await ledger.contract(session, found.contract_id)
    owner = contract.contractor_id if contract is not None else NOBODY
    ensure_visible(principal, found.region_code, owner, "更换要求", "replacement request")
    return found


@router.post("/replacement-requests", status_code=201, response_model=ReplacementRead, responses=PROBLEMS)
async def create_request(
    body: ReplacementCreate, principal: County, session: Session, response: Response
) -> ReplacementRead:
    """要求更换派遣人员 (the county official of the posting; `due_date` defaults to 15 days on)."""
    d = await store.dispatch(session, body.dispatch_id)
    if d is None:
        raise not_found("派遣", "dispatch")
    ensure_in_scope(principal, d.region_code, "派遣", "dispatch")
    if body.violation_id is not None:
        v = await violations.get(session, body.violation_id)
        if v is None or v.dispatch_id != d.id:
            raise invalid_field(
                "violation_id",
                "VIOLATION_MISMATCH",
                "违规不属于该派遣",
                "The violation is not this dispatch's",
            )
    now = today()
    due = body.due_date or rules.default_due(now)
    if due < now:
        raise invalid_field(
            "due_date", "DUE_DATE_PASSED", "期限不能早于今天", "due_date cannot lie in the past"
        )
    row = ReplacementRequest(
        dispatch_id=d.id, contract_id=d.contract_id, region_code=d.region_code,
        violation_id=body.violation_id, reason=body.reason.strip(), due_date=due,
    )  # fmt: skip
    await store.add(session, row)
    response.headers["Location"] = f"/api/v1/replacement-requests/{row.id}"
    return _changed(session, principal, row, "created")


@router.post("/replacement-requests/{request_id}/fulfil", response_model=ReplacementRead, responses=PROBLEMS)
async def fulfil(
    request_id: PathId, body: Fulfil, principal: Contractor, session: Session
) -> ReplacementRead:
    """已更换 (the contractor names the new dispatch: same contract and post, the old one ended)."""
    row = await _visible(session, principal, request_id, lock=True)
    if row.new_dispatch_id is not None:
        raise conflict("REPLACEMENT_FULFILLED", "该要求已完成", "This request has been fulfilled")
    old, new = (
        await store.dispatch(session, row.dispatch_id),
        await store.dispatch(session, body.new_dispatch_id),
    )
    if old is None or new is None or new.id == old.id:
        raise not_found("新的派遣", "new dispatch")
    rules.check_replacement(
        (old.contract_id, old.posting_level, old.region_code, old.end_date),
        (new.contract_id, new.posting_level, new.region_code, None),
    )
    row.new_dispatch_id, row.fulfilled_at = new.id, datetime.now(UTC)
    await session.flush()
    return _changed(session, principal, row, "fulfilled")


@router.get("/replacement-requests/{request_id}", response_model=ReplacementRead, responses=PROBLEMS)
async def read_request(request_id: PathId, principal: Reader, session: Session) -> ReplacementRead:
    """读取更换要求 (officials in scope; the contractor)."""
    return replacement_read(await _visible(session, principal, request_id))


@router.get(
    "/replacement-requests",
    openapi_extra=exportable("replacement-requests"),
    response_model=Page[ReplacementRead],
    responses=PROBLEMS,
)
async def list_requests(
    principal: Reader,
    session: Session,
    paging: Paging,
    region: Annotated[str | None, Query(description="派驻区划前缀 (posting region)")] = None,
    status: Annotated[Status | None, Query(description="状态 (open, fulfilled, overdue)")] = None,
) -> Page[ReplacementRead]:
    """更换要求列表 (by id; `overdue`: open past its due date)."""
    code, own = listed_scope(principal, region)
    rows, cursor = await store.list_requests(
        session, paging, region=code, own=own, status=status, today=today()
    )
    return Page[ReplacementRead](items=[replacement_read(r) for r in rows], next_cursor=cursor)
