"""因素法 allocations (province → prefectures and the directly administered counties; prefecture →
counties), expenditures against their lines, and fund execution (contracts.md *Funds*, notice §五)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Header, Query, Response

from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, ensure_in_scope, listed_region, require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.concurrency import etag
from services.common.errors import conflict, forbidden, invalid_field, not_found
from services.common.exports import exportable
from services.common.ids import MAX_ID, PathId
from services.common.models import Allocation, AllocationLine, Expenditure
from services.common.months import business_today
from services.common.pagination import Page, Paging
from services.common.regions import in_scope
from services.common.transaction import Session
from services.common.transitions import advance, allowed_actions
from services.contract_api.contracts.routes import visible_contract
from services.contract_api.funds import rules, store
from services.contract_api.funds.schemas import (
    AllocationCreate,
    AllocationRead,
    ExecutionItem,
    ExpenditureCreate,
    ExpenditureRead,
    FundExecution,
    LineRead,
    Status,
)

router = make_router(prefix="/api/v1", tags=["funds"])
Allocator = Annotated[
    Principal, Depends(require("province_admin", "finance_official", "prefecture_official"))
]
Mover = Annotated[Principal, Depends(require("province_admin", "finance_official"))]
County = Annotated[Principal, Depends(require("county_official"))]
Reader = Annotated[Principal, Depends(require(*READ_ROLES, scope="contracts:read"))]
IfMatch = Annotated[str | None, Header(description="乐观锁 (ETag of the allocation)")]
YearQuery = Annotated[int | None, Query(ge=2000, le=2100, description="年度 (year)")]
PROBLEMS: dict[int | str, dict[str, str]] = {
    403: {"description": "角色或层级无权 (role or level may not)"},
    404: {"description": "不存在或不在管辖范围内 (unknown or out of scope)"},
    409: {
        "description": "状态不允许 (ILLEGAL_TRANSITION), 已再分配 (ALREADY_REALLOCATED), "
        "已入账 (PAYMENT_BOOKED)"
    },
    412: {"description": "版本不符 (If-Match mismatch)"},
    422: {"description": "校验失败 (WEIGHTS_INVALID, UNIT_NOT_ELIGIBLE, INSUFFICIENT_FUNDS, …)"},
}


def _read(
    a: Allocation, lines: list[AllocationLine], names: dict[str, str], parent: int | None
) -> AllocationRead:
    return AllocationRead(
        id=a.id, year=a.year, region_code=a.region_code, parent_allocation_id=parent,
        parent_line_id=a.parent_line_id, total_amount=a.total_amount, own_funds=a.own_funds,
        weights={k: Decimal(v) for k, v in a.weights.items()}, status=a.status,
        allowed_actions=allowed_actions(rules.TRANSITIONS, a.status),
        lines=[
            LineRead(
                allocation_line_id=x.id, region_code=x.region_code, region_name=names.get(x.region_code, ""),
                factors={k: Decimal(v) for k, v in x.factors.items()}, share=x.share, amount=x.amount,
                spent=x.spent, remaining=x.amount - x.spent,
            )
            for x in lines
        ],
        created_by=a.created_by, approved_by=a.approved_by, published_at=a.published_at, version=a.version,
    )  # fmt: skip


async def allocation_reads(session: Session, allocations: Sequence[Allocation]) -> list[AllocationRead]:
    """Allocations with their lines, in three queries however many there are (lines, region names,
    the parents' allocation ids)."""
    lines = await store.lines_of(session, [a.id for a in allocations])
    names = await store.region_names(session, sorted({x.region_code for x in lines}))
    parents = await store.allocation_of_lines(
        session, [a.parent_line_id for a in allocations if a.parent_line_id]
    )
    by_allocation: dict[int, list[AllocationLine]] = {}
    for x in lines:
        by_allocation.setdefault(x.allocation_id, []).append(x)
    return [
        _read(
            a, by_allocation.get(a.id, []), names, parents.get(a.parent_line_id) if a.parent_line_id else None
        )
        for a in allocations
    ]


async def allocation_read(session: Session, a: Allocation) -> AllocationRead:
    return (await allocation_reads(session, [a]))[0]


async def visible_allocation(
    session: Session, principal: Principal, allocation_id: int, *, lock: bool = False
) -> Allocation:
    """Published allocations are public; a draft or an approved one only for its level and above."""
    found = await store.allocation(session, allocation_id, lock=lock)
    if found is None or (found.status != "published" and not in_scope(principal.region, found.region_code)):
        raise not_found("资金分配", "allocation")
    return found


async def _reallocated_line(
    session: Session, principal: Principal, body: AllocationCreate, parent_id: int
) -> AllocationLine:
    """The prefecture's line in the province's published allocation that a re-allocation shares out."""
    parent = await visible_allocation(session, principal, parent_id)
    if parent.status != "published" or parent.parent_line_id is not None:
        raise invalid_field(
            "parent_allocation_id", "ALLOCATION_NOT_PUBLISHED", "只能对已下达的省级分配进行再分配",
            "Only a published provincial allocation can be re-allocated",
        )  # fmt: skip
    if parent.year != body.year:
        raise invalid_field(
            "year", "YEAR_MISMATCH", "年度与上级分配不一致", "The year differs from the parent's"
        )
    line = await store.line_for(session, parent.id, principal.region)
    if line is None:
        raise invalid_field(
            "parent_allocation_id", "NO_LINE_FOR_REGION", "上级分配中没有本州（市）的明细",
            "The parent allocation has no line for your prefecture",
        )  # fmt: skip
    return line


@router.post("/allocations", status_code=201, response_model=AllocationRead, responses=PROBLEMS)
async def create_allocation(
    body: AllocationCreate, principal: Allocator, session: Session, response: Response
) -> AllocationRead:
    """因素法分配 (draft). Without `parent_allocation_id`: the province (province_admin, or the
    province's finance_official) shares `total_amount` among the prefectures and the three directly
    administered counties. With it: a prefecture (its prefecture_official or finance_official)
    re-allocates its line of that published allocation plus `own_funds` among its counties."""
    level = len(principal.region)
    if (body.parent_allocation_id is None) != (level == 2) or level not in (2, 4):
        raise forbidden(
            "省级分配省对下资金，州（市）再分配到县", "The province allocates; a prefecture re-allocates"
        )
    if body.parent_allocation_id is None and principal.role == "prefecture_official":
        raise forbidden()
    parent_line = None
    if body.parent_allocation_id is not None:
        parent_line = await _reallocated_line(session, principal, body, body.parent_allocation_id)
        if await store.reallocation_of(session, parent_line.id) is not None:
            raise conflict("ALREADY_REALLOCATED", "该明细已再分配", "This line has been re-allocated already")
        total = parent_line.amount + body.own_funds
        if body.total_amount is not None and body.total_amount != total:
            raise invalid_field(
                "total_amount", "TOTAL_MISMATCH", f"再分配总额应为上级明细加自筹：{total:.2f}",
                f"A re-allocation's total is its line plus own funds: {total:.2f}",
            )  # fmt: skip
    elif body.total_amount is None:
        raise invalid_field("total_amount", "INVALID_TOTAL", "须填写分配总额", "total_amount is required")
    elif body.own_funds != 0:
        raise invalid_field(
            "own_funds", "OWN_FUNDS_NOT_ALLOWED", "省级分配没有自筹资金", "Only prefectures add own funds"
        )
    else:
        total = body.total_amount
    weights = body.weights.model_dump()
    rules.check_weights(weights)
    units = rules.check_units(body.units, await store.eligible_units(session, principal.region))
    overrides = {
        code: {k: v for k, v in f.model_dump().items() if v is not None}
        for code, f in (body.factor_values or {}).items()
    }
    values = rules.merge_values(await store.default_factors(session, units, body.year), overrides)
    lines = rules.allocate(total, weights, values)
    a = Allocation(
        year=body.year, region_code=principal.region, parent_line_id=parent_line.id if parent_line else None,
        total_amount=total, own_funds=body.own_funds, weights={k: str(v) for k, v in weights.items()},
        created_by=principal.sub,
    )  # fmt: skip
    await store.add(session, a)
    for x in lines:
        factors = {k: str(v) for k, v in values[x.region_code].items()}
        await store.add(
            session,
            AllocationLine(
                allocation_id=a.id,
                region_code=x.region_code,
                factors=factors,
                share=x.share_6dp,
                amount=x.amount,
            ),
        )
    out = await allocation_read(session, a)
    _changed(session, principal, out, "created")
    response.headers["ETag"] = etag(a.version)
    return out


def _changed(session: Session, principal: Principal, out: AllocationRead, action: str) -> None:
    record_change(
        session, principal, action=action, resource="allocation", resource_id=str(out.id),
        region=out.region_code, data=out.model_dump(mode="json"),
    )  # fmt: skip


async def _move(
    session: Session, principal: Principal, allocation_id: int, action: str, if_match: str | None
) -> Allocation:
    a = await visible_allocation(session, principal, allocation_id, lock=True)
    ensure_in_scope(principal, a.region_code, "资金分配", "allocation")  # published: read, never moved
    if principal.role == "finance_official" and principal.region != a.region_code:
        raise forbidden("只有本级财政部门可以审核、下达", "Only the finance department of that level may")
    if principal.role not in rules.roles_for(action):
        raise forbidden()
    target = advance(rules.TRANSITIONS, a.status, action, version=a.version, if_match=if_match)
    a.status, a.version, a.updated_at = target, a.version + 1, datetime.now(UTC)
    return a


@router.post("/allocations/{allocation_id}/approve", response_model=AllocationRead, responses=PROBLEMS)
async def approve(
    allocation_id: PathId, principal: Mover, session: Session, response: Response, if_match: IfMatch = None
) -> AllocationRead:
    """审核 (the finance_official of the allocating level): draft → approved."""
    a = await _move(session, principal, allocation_id, "approve", if_match)
    a.approved_by = principal.sub
    await session.flush()
    out = await allocation_read(session, a)
    _changed(session, principal, out, "approved")
    response.headers["ETag"] = etag(a.version)
    return out


@router.post("/allocations/{allocation_id}/publish", response_model=AllocationRead, responses=PROBLEMS)
async def publish(
    allocation_id: PathId, principal: Mover, session: Session, response: Response, if_match: IfMatch = None
) -> AllocationRead:
    """下达 (province_admin, or the finance_official of the allocating level): approved → published.
    Its lines can then be spent against, or re-allocated by a prefecture."""
    a = await _move(session, principal, allocation_id, "publish", if_match)
    a.published_at = a.updated_at
    await session.flush()
    out = await allocation_read(session, a)
    _changed(session, principal, out, "published")
    response.headers["ETag"] = etag(a.version)
    return out


@router.get("/allocations/{allocation_id}", response_model=AllocationRead, responses=PROBLEMS)
async def read_allocation(
    allocation_id: PathId, principal: Reader, session: Session, response: Response
) -> AllocationRead:
    """资金分配 (published ones to every reader; drafts for their level and above)."""
    a = await visible_allocation(session, principal, allocation_id)
    response.headers["ETag"] = etag(a.version)
    return await allocation_read(session, a)


@router.get(
    "/allocations",
    openapi_extra=exportable("allocations"),
    response_model=Page[AllocationRead],
    responses=PROBLEMS,
)
async def list_allocations(
    principal: Reader,
    session: Session,
    paging: Paging,
    year: YearQuery = None,
    status: Annotated[Status | None, Query(description="状态 (status)")] = None,
) -> Page[AllocationRead]:
    """资金分配列表 (published ones, and drafts of the caller's level and below)."""
    rows, cursor = await store.list_allocations(
        session, paging, scope=principal.region, region="", year=year, status=status, public=False
    )
    return Page[AllocationRead](items=await allocation_reads(session, rows), next_cursor=cursor)


@router.post("/expenditures", status_code=201, response_model=ExpenditureRead, responses=PROBLEMS)
async def spend(body: ExpenditureCreate, principal: County, session: Session) -> ExpenditureRead:
    """支出 against a line of the county's own region in a published allocation. Only
    `service_purchase` (§五 专款专用), under one of the county's contracts; `payment_id` books a
    completed contract payment (once, at most its net amount). More than the balance → 422
    `INSUFFICIENT_FUNDS`, safe under concurrent requests."""
    rules.check_category(body.category)
    found = await store.line(session, body.allocation_line_id)
    if found is None or found[0].region_code != principal.region:
        raise not_found("分配明细", "allocation line")
    line, allocation = found
    if allocation.status != "published":
        raise invalid_field(
            "allocation_line_id",
            "ALLOCATION_NOT_PUBLISHED",
            "资金尚未下达",
            "The allocation is not published",
        )
    if body.spent_on > business_today(datetime.now(UTC)):
        raise invalid_field(
            "spent_on", "SPENT_IN_FUTURE", "支出日期不能晚于今天", "spent_on is in the future"
        )
    if body.contract_id is None:
        raise invalid_field("contract_id", "CONTRACT_REQUIRED", "购买服务支出须注明合同", "Name the contract")
    contract = await visible_contract(session, principal, body.contract_id)
    if body.payment_id is not None:
        paid = await store.payment(session, body.payment_id)
        if paid is None or paid.contract_id != contract.id or paid.status != "completed":
            raise invalid_field(
                "payment_id", "PAYMENT_NOT_COMPLETED", "须为该合同已完成结算的支付",
                "The payment must be a completed payment of this contract",
            )  # fmt: skip
        if paid.net_amount is not None and body.amount > paid.net_amount:
            raise invalid_field(
                "amount", "EXCEEDS_PAYMENT", "支出不能超过实付金额", "More than the payment's net"
            )
        if await store.booked(session, paid.id):
            raise conflict("PAYMENT_BOOKED", "该支付已登记支出", "This payment is booked already")
    row = Expenditure(
        allocation_line_id=line.id, region_code=line.region_code, created_by=principal.sub,
        **body.model_dump(exclude={"allocation_line_id"}),
    )  # fmt: skip
    await store.add(session, row)
    if not await store.spend(session, line.id, body.amount):  # last: the line's row lock, see store.spend
        raise invalid_field(
            "amount",
            "INSUFFICIENT_FUNDS",
            "超过该分配明细的可用余额",
            "More than the line's remaining balance",
        )
    out = ExpenditureRead.model_validate(row)
    record_change(
        session, principal, action="created", resource="expenditure", resource_id=str(row.id),
        region=row.region_code, data=out.model_dump(mode="json"),
    )  # fmt: skip
    return out


@router.get(
    "/expenditures",
    openapi_extra=exportable("expenditures"),
    response_model=Page[ExpenditureRead],
    responses=PROBLEMS,
)
async def list_expenditures(
    principal: Reader,
    session: Session,
    paging: Paging,
    region: Annotated[str | None, Query(description="区划前缀 (county and below)")] = None,
    year: YearQuery = None,
    allocation_line_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="分配明细 (line)")] = None,
) -> Page[ExpenditureRead]:
    """支出列表 (in scope)."""
    code = listed_region(principal, region)
    rows, cursor = await store.list_expenditures(
        session, paging, region=code, year=year, line_id=allocation_line_id
    )
    return Page[ExpenditureRead](items=[ExpenditureRead.model_validate(r) for r in rows], next_cursor=cursor)


@router.get(
    "/fund-execution",
    openapi_extra=exportable("fund-execution"),
    response_model=FundExecution,
    responses=PROBLEMS,
)
async def fund_execution(
    principal: Reader,
    session: Session,
    year: Annotated[int, Query(ge=2000, le=2100, description="年度 (year)")],
    region: Annotated[str | None, Query(description="区划前缀 (region)")] = None,
) -> FundExecution:
    """资金执行 (every published line of `year` for a unit in the region: allocated, spent against it
    and against its re-allocation, and the execution rate capped at 1)."""
    code = listed_region(principal, region)
    items = []
    for r in await store.execution(session, code, year):
        spent = r.spent_directly + r.spent_by_reallocation
        items.append(
            ExecutionItem(
                allocation_id=r.allocation_id,
                allocation_line_id=r.line_id,
                allocating_region=r.allocating_region,
                region_code=r.region_code,
                allocated=r.amount,
                spent_directly=r.spent_directly,
                spent_by_reallocation=r.spent_by_reallocation,
                spent=spent,
                execution_rate=rules.execution_rate(spent, r.amount),
            )
        )
    return FundExecution(
        region=code, year=year, spent_total=await store.spent_total(session, code, year), items=items
    )
