"""Violations (penalties.md *Violations*): a township reports, the county confirms (or dismisses) —
or creates and confirms in one step — and each confirmation appends exactly one deduction entry to
the contract's ledger, in the same transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Query, Response

from services.common.app import router as make_router
from services.common.auth.deps import (
    READ_ROLES,
    ensure_in_scope,
    ensure_visible,
    listed_scope,
    require,
)
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.errors import conflict, forbidden, not_found
from services.common.exports import exportable
from services.common.ids import MAX_ID, PathId
from services.common.models import Violation
from services.common.months import Day, business_today
from services.common.pagination import Page, Paging
from services.common.transaction import Session, single_write
from services.penalty_api.ledger import store as ledger
from services.penalty_api.ledger.routes import visible_contract
from services.penalty_api.violations import rules, store
from services.penalty_api.violations.schemas import (
    Confirm,
    Dismiss,
    ViolationCreate,
    ViolationRead,
    ViolationSummary,
)

router = make_router(prefix="/api/v1", tags=["violations"])
Reporter = Annotated[Principal, Depends(require("township_official", "county_official"))]
County = Annotated[Principal, Depends(require("county_official"))]
Reader = Annotated[Principal, Depends(require(*READ_ROLES, "contractor", scope="penalties:read"))]
PROBLEMS: dict[int | str, dict[str, str]] = {
    403: {"description": "角色无权 (role may not)"},
    404: {"description": "不存在或不在管辖范围内 (unknown or out of scope)"},
    409: {"description": "已作出决定 (VIOLATION_DECIDED)"},
    422: {"description": "规则校验失败 (MULTIPLIER_OUT_OF_RANGE, dates)"},
}


def today() -> date:
    return business_today(datetime.now(UTC))


async def visible(
    session: Session, principal: Principal, violation_id: int, *, lock: bool = False
) -> Violation:
    found = await store.get(session, violation_id, lock=lock)
    if found is None:
        raise not_found("违规", "violation")
    contract = await ledger.contract(session, found.contract_id)
    ensure_visible(
        principal, found.region_code, contract.contractor_id if contract else -1, "违规", "violation"
    )
    return found


def _changed(
    session: Session, principal: Principal, out: ViolationRead, action: str, *, late: bool = False
) -> ViolationRead:
    """Queue the audit row and event (``late``: the ledger seq is filled in by the chaining statement)."""
    record_change(
        session, principal, action=action, resource="violation", resource_id=str(out.id),
        region=out.region_code, data=out.model_dump(mode="json"), late=late,
    )  # fmt: skip
    return out


def _deduction(p: store.Posting, multiplier: Decimal, decided: date) -> store.Deduction:
    """The deduction fixed from its inputs (§六(二): multiplier × the wage or the subsidy standard)."""
    base = rules.base(p.posts, p.posting_level, p.region_code, p.monthly_wage)
    amount = rules.deduction(multiplier, base)  # the caller checked the multiplier first
    return store.Deduction(base, multiplier, amount, decided)


def _request_id(session: Session) -> str:
    return str(session.info.get("request_id", "-"))


@router.post("/violations", status_code=201, response_model=ViolationRead, responses=PROBLEMS)
async def create_violation(
    body: ViolationCreate, principal: Reporter, session: Session, response: Response
) -> ViolationRead:
    """报告违规 (a township official for a posting in its township: `reported`). A county official of
    the posting's county may give `multiplier` to confirm at once: one deduction entry is chained.
    A dispatch of a terminated contract is still recorded."""
    if body.multiplier is not None:  # the posting read, then one statement does all the writing
        await single_write(session)
    found = await store.posting(session, body.dispatch_id, new=body.multiplier is not None)
    if found is None:
        raise not_found("派遣", "dispatch")
    ensure_in_scope(principal, found.region_code, "派遣", "dispatch")
    if body.multiplier is not None and principal.role != "county_official":
        raise forbidden("只有县级民政部门可以认定并扣减", "Only the county official confirms a deduction")
    now = today()
    rules.check_found(body.occurred_on, body.discovered_on, now)
    decided = body.decided_on or now
    fields = {
        "dispatch_id": found.dispatch_id, "contract_id": found.contract_id, "region_code": found.region_code,
        "kind": body.kind, "occurred_on": body.occurred_on, "discovered_on": body.discovered_on,
        "description": body.description.strip(), "evidence": [e.model_dump() for e in body.evidence],
        "serious_social_impact": body.serious_social_impact,
    }  # fmt: skip
    if body.multiplier is None or found.new_id is None:
        v = Violation(**fields, status="reported", reported_by=principal.sub)
        await store.add(session, v)
        response.headers["Location"] = f"/api/v1/violations/{v.id}"
        return _changed(session, principal, ViolationRead.model_validate(v), "reported")
    rules.check_multiplier(body.multiplier)
    rules.check_decided(decided, body.discovered_on, now)
    d, at = _deduction(found, body.multiplier, decided), datetime.now(UTC)
    out = ViolationRead(
        id=found.new_id, **fields, status="confirmed", base=d.base, multiplier=d.multiplier, amount=d.amount,
        ledger_seq=None, decided_on=decided, dismiss_reason=None, version=1, created_at=at,
    )  # fmt: skip
    _changed(session, principal, out, "confirmed", late=True)
    version, seq = await store.report_confirmed(
        session, {**fields, "id": out.id}, d, at=at, created_by=principal.sub, request_id=_request_id(session)
    )
    response.headers["Location"] = f"/api/v1/violations/{out.id}"
    return out.model_copy(update={"version": version, "ledger_seq": seq})


@router.post("/violations/{violation_id}/confirm", response_model=ViolationRead, responses=PROBLEMS)
async def confirm(violation_id: PathId, body: Confirm, principal: County, session: Session) -> ViolationRead:
    """认定并扣减 (the county official; `multiplier` 1.00–3.00; `decided_on` the written decision's
    date, default today). Exactly one deduction entry; a second confirmation → 409."""
    v = await visible(session, principal, violation_id, lock=True)
    if v.status != "reported":
        raise conflict("VIOLATION_DECIDED", f"该违规已{v.status}", f"This violation is already {v.status}")
    now = today()
    decided = body.decided_on or now
    rules.check_multiplier(body.multiplier)
    rules.check_decided(decided, v.discovered_on, now)
    found = await store.posting(session, v.dispatch_id)
    if found is None:  # a foreign key: cannot happen
        raise not_found("派遣", "dispatch")
    d, at = _deduction(found, body.multiplier, decided), datetime.now(UTC)
    confirmed = {
        "status": "confirmed", "base": d.base, "multiplier": d.multiplier, "amount": d.amount,
        "decided_on": decided, "version": v.version + 1,
    }  # fmt: skip
    queued = ViolationRead.model_validate(v).model_copy(update=confirmed)
    _changed(session, principal, queued, "confirmed", late=True)
    await store.confirm(session, v, d, at=at, created_by=principal.sub, request_id=_request_id(session))
    return ViolationRead.model_validate(v)


@router.post("/violations/{violation_id}/dismiss", response_model=ViolationRead, responses=PROBLEMS)
async def dismiss(violation_id: PathId, body: Dismiss, principal: County, session: Session) -> ViolationRead:
    """不予认定 (the county official): no deduction."""
    v = await visible(session, principal, violation_id, lock=True)
    if v.status != "reported":
        raise conflict("VIOLATION_DECIDED", f"该违规已{v.status}", f"This violation is already {v.status}")
    now = today()
    decided = body.decided_on or now
    rules.check_decided(decided, v.discovered_on, now)
    v.status, v.dismiss_reason, v.decided_on = "dismissed", body.reason.strip(), decided
    v.version += 1
    v.updated_at = datetime.now(UTC)
    await session.flush()
    return _changed(session, principal, ViolationRead.model_validate(v), "dismissed")


@router.get("/violations/{violation_id}", response_model=ViolationRead, responses=PROBLEMS)
async def read_violation(violation_id: PathId, principal: Reader, session: Session) -> ViolationRead:
    """读取违规 (officials in scope of the posting; the contractor of the contract)."""
    return ViolationRead.model_validate(await visible(session, principal, violation_id))


@router.get(
    "/violations",
    openapi_extra=exportable("violations"),
    response_model=Page[ViolationRead],
    responses=PROBLEMS,
)
async def list_violations(
    principal: Reader,
    session: Session,
    paging: Paging,
    region: Annotated[str | None, Query(description="派驻区划前缀 (posting region)")] = None,
    contract_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="合同 (contract)")] = None,
    status: Annotated[
        str | None, Query(pattern="^(reported|confirmed|dismissed|overturned)$", description="状态 (status)")
    ] = None,
) -> Page[ViolationRead]:
    """违规列表 (by id; a contractor its contracts')."""
    code, own = listed_scope(principal, region)
    rows, cursor = await store.list_violations(
        session, principal, paging, region=code, own=own, contract_id=contract_id, status=status
    )
    return Page[ViolationRead](items=[ViolationRead.model_validate(v) for v in rows], next_cursor=cursor)


@router.get("/violation-summary/{contract_id}", response_model=ViolationSummary, responses=PROBLEMS)
async def violation_summary(
    contract_id: PathId,
    principal: Reader,
    session: Session,
    as_of: Annotated[Day | None, Query(description="截止日 (default today)")] = None,
) -> ViolationSummary:
    """违规汇总 (confirmed violations by kind over the last 12 months, and whether a termination is
    recommended: any with serious social impact, or 3 or more falsifications)."""
    await visible_contract(session, principal, contract_id)
    day = as_of or today()
    confirmed = [
        rules.Confirmed(v.kind, v.serious_social_impact, v.decided_on)
        for v in await store.confirmed_of(session, contract_id)
        if v.decided_on is not None
    ]
    e = rules.escalation(confirmed, day)
    return ViolationSummary(
        contract_id=contract_id, since=e.since, as_of=day, by_kind=e.by_kind,
        termination_recommended=e.termination_recommended,
    )  # fmt: skip
