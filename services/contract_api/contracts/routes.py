"""Contracts (contracts.md *Contracts*): the draft's terms under `If-Match`, then one endpoint per
transition of ``rules.TRANSITIONS``, each audited and sent to the change feed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, Header, Query, Response

from services.common.app import router as make_router
from services.common.auth.deps import (
    READ_ROLES,
    ensure_visible,
    listed_region,
    own_org,
    require,
)
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.concurrency import check_if_match, etag
from services.common.errors import conflict, forbidden, invalid, not_found
from services.common.exports import exportable
from services.common.ids import PathId
from services.common.models import Contract, Debarment
from services.common.months import business_today
from services.common.pagination import Page, Paging
from services.common.regions import parse_code
from services.common.transaction import Session
from services.common.transitions import advance, allowed_actions
from services.contract_api.contractors import rules as contractor_rules
from services.contract_api.contractors import store as contractors
from services.contract_api.contractors.routes import organisation_of
from services.contract_api.contracts import rules, store
from services.contract_api.contracts.schemas import (
    ContractPatch,
    ContractRead,
    Post,
    Status,
    Takeover,
    TakeoverPlan,
    Termination,
    WorkPlan,
)
from services.contract_api.dispatches import rules as dispatch_rules
from services.contract_api.dispatches import store as dispatches
from services.contract_api.dispatches.schemas import DispatchRead

router = make_router(prefix="/api/v1", tags=["contracts"])
Reader = Annotated[Principal, Depends(require(*READ_ROLES, "contractor", scope="contracts:read"))]
County = Annotated[Principal, Depends(require(*rules.COUNTY))]
Government = Annotated[Principal, Depends(require(*rules.GOVERNMENT))]
Contractor = Annotated[Principal, Depends(require(*rules.CONTRACTOR))]
Filing = Annotated[Principal, Depends(require(*rules.FILING_OFFICES))]
IfMatch = Annotated[str | None, Header(description="乐观锁 (ETag of the version acted on)")]
PROBLEMS: dict[int | str, dict[str, str]] = {
    403: {"description": "角色无权 (role may not)"},
    404: {"description": "不存在或不在管辖范围内 (unknown or out of scope)"},
    409: {"description": "状态不允许 (ILLEGAL_TRANSITION, CONTRACT_FIXED)"},
    412: {"description": "版本不符 (If-Match mismatch)"},
}


def contract_read(c: Contract) -> ContractRead:
    return ContractRead(
        id=c.id, county_code=c.county_code, contractor_id=c.contractor_id, procurement_id=c.procurement_id,
        bid_id=c.bid_id, amount=c.amount, status=c.status, start_date=c.start_date, end_date=c.end_date,
        posts=[Post.model_validate(p) for p in c.posts or []], payment_schedule=c.payment_schedule,
        takeover_plan=TakeoverPlan.model_validate(c.takeover_plan) if c.takeover_plan else None,
        signed_on=c.signed_on, work_plan=c.work_plan, acknowledged_by=c.acknowledged_by, takeover=c.takeover,
        termination=c.termination, termination_recommended=c.termination_recommended,
        allowed_actions=allowed_actions(rules.TRANSITIONS, c.status),
        version=c.version, updated_at=c.updated_at,
    )  # fmt: skip


async def visible_contract(
    session: Session, principal: Principal, contract_id: int, *, lock: bool = False
) -> Contract:
    """The contract if the caller may see it: officials in scope of its county; a contractor its own."""
    contract = await store.get(session, contract_id, lock=lock)
    if contract is None:
        raise not_found("合同", "contract")
    ensure_visible(principal, contract.county_code, contract.contractor_id, "合同", "contract")
    return contract


def _today() -> datetime:
    return datetime.now(UTC)


async def _changed(
    session: Session, principal: Principal, contract: Contract, action: str, response: Response
) -> ContractRead:
    contract.version += 1
    contract.updated_at = _today()
    await session.flush()
    out = contract_read(contract)
    record_change(
        session, principal, action=action, resource="contract", resource_id=str(contract.id),
        region=contract.county_code, data=out.model_dump(mode="json"),
    )  # fmt: skip
    response.headers["ETag"] = etag(contract.version)
    return out


Apply = Callable[[Contract], Awaitable[None]]


async def _end_dispatches(session: Session, principal: Principal, contract: Contract, last_day: date) -> None:
    """A contract that ends takes its open dispatches with it (`contract_ended`), so the quotas stop
    counting them and the person may be dispatched again."""
    for d in await dispatches.open_under(session, contract.id):
        d.end_date, d.end_reason = dispatch_rules.contract_end_day(d.start_date, last_day), "contract_ended"
        await session.flush()
        record_change(
            session, principal, action="ended", resource="dispatch", resource_id=str(d.id),
            region=d.region_code, data=DispatchRead.model_validate(d).model_dump(mode="json"),
        )  # fmt: skip


async def _transition(
    session: Session, principal: Principal, contract_id: int, action: str, if_match: str | None,
    response: Response, apply: Apply | None = None,
) -> ContractRead:  # fmt: skip
    contract = await visible_contract(session, principal, contract_id, lock=True)
    target = advance(rules.TRANSITIONS, contract.status, action, version=contract.version, if_match=if_match)
    if apply is not None:
        await apply(contract)
    contract.status = target
    return await _changed(session, principal, contract, action, response)


@router.get("/contracts/{contract_id}", response_model=ContractRead, responses=PROBLEMS)
async def read_contract(
    contract_id: PathId, principal: Reader, session: Session, response: Response
) -> ContractRead:
    """读取合同 (officials and auditors in scope; the contractor its own)."""
    contract = await visible_contract(session, principal, contract_id)
    response.headers["ETag"] = etag(contract.version)
    return contract_read(contract)


@router.get(
    "/contracts", openapi_extra=exportable("contracts"), response_model=Page[ContractRead], responses=PROBLEMS
)
async def list_contracts(
    principal: Reader,
    session: Session,
    paging: Paging,
    region: Annotated[str | None, Query(description="区划前缀 (purchaser county and below)")] = None,
    status: Annotated[Status | None, Query(description="状态 (status)")] = None,
) -> Page[ContractRead]:
    """合同列表 (in scope by id; a contractor its own contracts)."""
    code = listed_region(principal, region)
    own = own_org(principal) if principal.role == "contractor" else None
    if principal.role == "contractor" and own is None:
        return Page[ContractRead](items=[], next_cursor=None)
    rows, cursor = await store.list_contracts(session, principal, paging, region=code, own=own, status=status)
    return Page[ContractRead](items=[contract_read(c) for c in rows], next_cursor=cursor)


@router.patch("/contracts/{contract_id}", response_model=ContractRead, responses=PROBLEMS)
async def patch_contract(
    contract_id: PathId, body: ContractPatch, principal: County, session: Session, response: Response,
    if_match: IfMatch = None,
) -> ContractRead:  # fmt: skip
    """修改合同草稿 (the county official sets the term, posts, schedule and takeover plan while the
    contract is a draft; fixed from `authorize` on: 409 `CONTRACT_FIXED`)."""
    contract = await visible_contract(session, principal, contract_id, lock=True)
    check_if_match(if_match, contract.version)
    if contract.status != "draft":
        raise conflict(
            "CONTRACT_FIXED", "合同已授权，条款不可再改", "The contract is authorized: its terms are fixed"
        )
    changes = body.model_dump(exclude_unset=True, mode="json")
    for post in body.posts or []:
        code = parse_code(post.region_code, "posts.region_code")
        if not code.startswith(contract.county_code):
            raise invalid("POST_OUTSIDE_COUNTY", "岗位须在本县", "Posts must lie in the contract's county")
    start = body.start_date or contract.start_date
    end = body.end_date or contract.end_date
    if start is not None and end is not None:
        rules.check_term(start, end)
    for name in ("start_date", "end_date"):
        if name in changes:
            setattr(contract, name, getattr(body, name))
    for name in ("posts", "payment_schedule", "takeover_plan"):
        if name in changes:
            setattr(contract, name, changes[name])
    return await _changed(session, principal, contract, "updated", response)


@router.post("/contracts/{contract_id}/authorize", response_model=ContractRead, responses=PROBLEMS)
async def authorize(
    contract_id: PathId, principal: Government, session: Session, response: Response, if_match: IfMatch = None
) -> ContractRead:
    """授权签订 (the county government authorizes its civil-affairs department to sign; the term and
    posts must be set, 422 `TERMS_INCOMPLETE`)."""

    async def complete(c: Contract) -> None:
        if c.start_date is None or c.end_date is None or not c.posts or c.payment_schedule is None:
            raise invalid(
                "TERMS_INCOMPLETE",
                "合同期限、岗位和支付周期须先填写",
                "Set the term, posts and schedule first",
            )

    return await _transition(session, principal, contract_id, "authorize", if_match, response, complete)


@router.post("/contracts/{contract_id}/sign", response_model=ContractRead, responses=PROBLEMS)
async def sign(
    contract_id: PathId, principal: County, session: Session, response: Response, if_match: IfMatch = None
) -> ContractRead:
    """签订 (the county official; the contractor must be eligible and not debarred)."""

    async def check(c: Contract) -> None:
        contractor = await contractors.get(session, c.contractor_id)
        if contractor is None or contractor_rules.ineligibility(organisation_of(contractor)):
            raise invalid("CONTRACTOR_INELIGIBLE", "承接主体不具备资格", "The contractor may not be hired")
        today = business_today(_today())
        if await contractors.is_debarred(session, contractor.id, today):
            raise invalid("CONTRACTOR_DEBARRED", "承接主体处于禁止参与期内", "The contractor is debarred")
        c.signed_on = today

    return await _transition(session, principal, contract_id, "sign", if_match, response, check)


@router.post("/contracts/{contract_id}/work-plan", response_model=ContractRead, responses=PROBLEMS)
async def file_work_plan(
    contract_id: PathId, body: WorkPlan, principal: Contractor, session: Session, response: Response,
    if_match: IfMatch = None,
) -> ContractRead:  # fmt: skip
    """报备工作方案 (the contractor files its work plan for acknowledgement)."""

    async def record(c: Contract) -> None:
        c.work_plan = body.work_plan.strip()

    return await _transition(session, principal, contract_id, "work-plan", if_match, response, record)


@router.post("/contracts/{contract_id}/acknowledge", response_model=ContractRead, responses=PROBLEMS)
async def acknowledge(
    contract_id: PathId, principal: Filing, session: Session, response: Response, if_match: IfMatch = None
) -> ContractRead:
    """备案 (the prefecture official of the county's prefecture; the province for 镇雄县, 宣威市, 腾冲市)."""

    async def check(c: Contract) -> None:
        role, region = rules.filing_office(c.county_code)
        if principal.role != role or principal.region != region:
            raise forbidden("该合同的工作方案应由其他部门备案", "Another office acknowledges this work plan")
        c.acknowledged_by = principal.sub

    return await _transition(session, principal, contract_id, "acknowledge", if_match, response, check)


@router.post("/contracts/{contract_id}/activate", response_model=ContractRead, responses=PROBLEMS)
async def activate(
    contract_id: PathId, principal: County, session: Session, response: Response, if_match: IfMatch = None
) -> ContractRead:
    """开始履行 (the county official; needs the acknowledged work plan and a takeover plan)."""

    async def check(c: Contract) -> None:
        if not c.takeover_plan:
            raise invalid(
                "TAKEOVER_PLAN_REQUIRED", "须先制定临时接管预案", "A takeover plan is required first"
            )

    return await _transition(session, principal, contract_id, "activate", if_match, response, check)


@router.post("/contracts/{contract_id}/takeover", response_model=ContractRead, responses=PROBLEMS)
async def takeover(
    contract_id: PathId, body: Takeover, principal: County, session: Session, response: Response,
    if_match: IfMatch = None,
) -> ContractRead:  # fmt: skip
    """临时接管 (the contractor cannot serve: suspended, a named unit serves the recipients meanwhile)."""

    async def record(c: Contract) -> None:
        c.takeover = {
            "unit": body.unit.strip(),
            "reason": body.reason.strip(),
            "since": business_today(_today()).isoformat(),
        }

    return await _transition(session, principal, contract_id, "takeover", if_match, response, record)


@router.post("/contracts/{contract_id}/resume", response_model=ContractRead, responses=PROBLEMS)
async def resume(
    contract_id: PathId, principal: County, session: Session, response: Response, if_match: IfMatch = None
) -> ContractRead:
    """恢复履行 (the takeover ends)."""

    async def clear(c: Contract) -> None:
        c.takeover = None

    return await _transition(session, principal, contract_id, "resume", if_match, response, clear)


@router.post("/contracts/{contract_id}/complete", response_model=ContractRead, responses=PROBLEMS)
async def complete(
    contract_id: PathId, principal: County, session: Session, response: Response, if_match: IfMatch = None
) -> ContractRead:
    """履行完毕 (the county official closes a fulfilled contract; its open dispatches end on the
    contract's last day, or today if that is earlier)."""

    async def close(c: Contract) -> None:
        today = business_today(_today())
        await _end_dispatches(session, principal, c, min(today, c.end_date or today))

    return await _transition(session, principal, contract_id, "complete", if_match, response, close)


@router.post("/contracts/{contract_id}/terminate", response_model=ContractRead, responses=PROBLEMS)
async def terminate(
    contract_id: PathId, body: Termination, principal: County, session: Session, response: Response,
    if_match: IfMatch = None,
) -> ContractRead:  # fmt: skip
    """解除合同 (the county official; open dispatches end today). `serious: true` (情节严重、造成恶劣社会
    影响) debars the contractor for `debar_months` (12–36, default 36) from today: it can then neither
    bid, be awarded nor sign."""
    today = business_today(_today())
    months = body.debar_months if body.debar_months is not None else rules.DEBAR_MONTHS_DEFAULT
    until = rules.debarment_until(today, months) if body.serious else None

    async def record(c: Contract) -> None:
        c.termination = {"reason": body.reason.strip(), "serious": body.serious, "on": today.isoformat()}
        await _end_dispatches(session, principal, c, today)
        if until is not None:
            await store.add_debarment(
                session,
                Debarment(contractor_id=c.contractor_id, contract_id=c.id, region_code=c.county_code,
                          reason=body.reason.strip(), since=today, until=until),
            )  # fmt: skip

    return await _transition(session, principal, contract_id, "terminate", if_match, response, record)
