"""Appeals (penalties.md *Appeals*): the contractor contests a confirmed violation within 15 days of
the decision (the last day included); upheld → a reversal of the full deduction, chained like every
entry, and a credit where part had already been settled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query, Response

from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, listed_scope, require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.errors import conflict, not_found
from services.common.exports import exportable
from services.common.ids import PathId
from services.common.models import Appeal, Violation
from services.common.pagination import Page, Paging
from services.common.transaction import Session
from services.penalty_api.appeals import store
from services.penalty_api.appeals.schemas import AppealCreate, AppealDecide, AppealRead
from services.penalty_api.ledger import store as ledger
from services.penalty_api.violations import rules
from services.penalty_api.violations.routes import PROBLEMS, today, visible

router = make_router(prefix="/api/v1", tags=["appeals"])
Contractor = Annotated[Principal, Depends(require("contractor"))]
County = Annotated[Principal, Depends(require("county_official"))]
Reader = Annotated[Principal, Depends(require(*READ_ROLES, "contractor", scope="penalties:read"))]


def _changed(session: Session, principal: Principal, a: Appeal, region: str, action: str) -> AppealRead:
    out = AppealRead.model_validate(a)
    record_change(
        session, principal, action=action, resource="appeal", resource_id=str(a.id), region=region,
        data=out.model_dump(mode="json"),
    )  # fmt: skip
    return out


async def _visible_appeal(
    session: Session, principal: Principal, appeal_id: int, *, lock: bool = False
) -> tuple[Appeal, Violation]:
    appeal = await store.get(session, appeal_id, lock=lock)
    if appeal is None:
        raise not_found("申诉", "appeal")
    violation = await visible(session, principal, appeal.violation_id, lock=lock)
    return appeal, violation


@router.post(
    "/violations/{violation_id}/appeals", status_code=201, response_model=AppealRead, responses=PROBLEMS
)
async def file_appeal(
    violation_id: PathId, body: AppealCreate, principal: Contractor, session: Session, response: Response
) -> AppealRead:
    """申诉 (the contractor of the contract, within 15 days of `decided_on`, inclusive: decided on 1
    March → 16 March is the last day; 422 `APPEAL_WINDOW_CLOSED` after; 409 `APPEAL_EXISTS`)."""
    v = await visible(session, principal, violation_id, lock=True)
    if v.status != "confirmed" or v.decided_on is None:
        raise conflict(
            "VIOLATION_NOT_CONFIRMED", "只能对已认定的违规申诉", "Only a confirmed violation can be appealed"
        )
    if await store.exists_for(session, v.id):
        raise conflict("APPEAL_EXISTS", "该违规已有申诉", "This violation has been appealed already")
    rules.check_appeal_window(v.decided_on, today())
    appeal = Appeal(
        violation_id=v.id, contract_id=v.contract_id, grounds=body.grounds.strip(), filed_by=principal.sub
    )
    await store.add(session, appeal)
    response.headers["Location"] = f"/api/v1/appeals/{appeal.id}"
    return _changed(session, principal, appeal, v.region_code, "filed")


@router.post("/appeals/{appeal_id}/decide", response_model=AppealRead, responses=PROBLEMS)
async def decide(appeal_id: PathId, body: AppealDecide, principal: County, session: Session) -> AppealRead:
    """申诉决定 (the county official). Upheld: a reversal entry of the full deducted amount and the
    violation `overturned`; what was already settled becomes a credit the next settlement repays."""
    appeal, v = await _visible_appeal(session, principal, appeal_id, lock=True)
    if appeal.status != "pending":
        raise conflict("APPEAL_DECIDED", "该申诉已作出决定", "This appeal has been decided")
    if body.outcome == "upheld" and v.amount is not None:
        new = ledger.NewEntry(
            contract_id=v.contract_id,
            entry_type="reversal",
            amount=v.amount,
            violation_id=v.id,
            appeal_id=appeal.id,
        )
        await ledger.append(
            session, new, created_by=principal.sub, request_id=session.info.get("request_id", "-")
        )
        v.status = "overturned"
        v.version += 1
        v.updated_at = datetime.now(UTC)
    appeal.status, appeal.reason = body.outcome, body.reason.strip()
    appeal.decided_by, appeal.decided_at = principal.sub, datetime.now(UTC)
    await session.flush()
    return _changed(session, principal, appeal, v.region_code, body.outcome)


@router.get("/appeals/{appeal_id}", response_model=AppealRead, responses=PROBLEMS)
async def read_appeal(appeal_id: PathId, principal: Reader, session: Session) -> AppealRead:
    """读取申诉 (officials in scope; the contractor)."""
    appeal, _ = await _visible_appeal(session, principal, appeal_id)
    return AppealRead.model_validate(appeal)


@router.get(
    "/appeals", openapi_extra=exportable("appeals"), response_model=Page[AppealRead], responses=PROBLEMS
)
async def list_appeals(
    principal: Reader,
    session: Session,
    paging: Paging,
    region: Annotated[str | None, Query(description="派驻区划前缀 (posting region)")] = None,
    status: Annotated[
        str | None, Query(pattern="^(pending|upheld|rejected)$", description="状态 (status)")
    ] = None,
) -> Page[AppealRead]:
    """申诉列表 (by id; a contractor its own)."""
    code, own = listed_scope(principal, region)
    rows, cursor = await store.list_appeals(session, paging, region=code, own=own, status=status)
    return Page[AppealRead](items=[AppealRead.model_validate(a) for a in rows], next_cursor=cursor)
