"""The deduction ledger (penalties.md *The ledger*): entries, balance, verification, the summary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query

from services.common.app import router as make_router
from services.common.auth.deps import (
    READ_ROLES,
    ensure_visible,
    listed_region,
    listed_scope,
    require,
)
from services.common.auth.tokens import Principal
from services.common.errors import not_found
from services.common.exports import exportable
from services.common.ids import PathId
from services.common.models import Contract
from services.common.months import business_today
from services.common.transaction import Session
from services.penalty_api.ledger import store
from services.penalty_api.ledger.schemas import (
    BadEntry,
    BalanceRead,
    DeductionSummary,
    EntryPage,
    EntryRead,
    SummaryItem,
    VerifyRead,
)

router = make_router(prefix="/api/v1", tags=["ledger"])
Reader = Annotated[Principal, Depends(require(*READ_ROLES, "contractor", scope="penalties:read"))]
Verifier = Annotated[Principal, Depends(require("auditor", "province_admin"))]
PROBLEMS: dict[int | str, dict[str, str]] = {
    404: {"description": "合同不存在或不在管辖范围内 (unknown or out of scope)"}
}


async def visible_contract(session: Session, principal: Principal, contract_id: int) -> Contract:
    """The contract if the caller may see its money: officials in scope of its county, its contractor."""
    found = await store.contract(session, contract_id)
    if found is None:
        raise not_found("合同", "contract")
    ensure_visible(principal, found.county_code, found.contractor_id, "合同", "contract")
    return found


@router.get(
    "/ledger/{contract_id}/entries",
    response_model=EntryPage,
    responses=PROBLEMS,
    openapi_extra=exportable("ledger-entries", page=("after_seq", "next_after_seq")),
)
async def list_entries(
    contract_id: PathId,
    principal: Reader,
    session: Session,
    after_seq: Annotated[
        int, Query(ge=0, le=2**31 - 1, description="从该序号之后 (entries after this seq)")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500, description="条数 (page size)")] = 100,
) -> EntryPage:
    """台账条目 (every hashed field in its published form, plus `hash`: recompute them outside)."""
    await visible_contract(session, principal, contract_id)
    rows = await store.entries(session, contract_id, after_seq, limit + 1)
    items = [EntryRead(**store.published(e), hash=e.hash) for e in rows[:limit]]
    return EntryPage(items=items, next_after_seq=rows[limit - 1].seq if len(rows) > limit else None)


@router.get("/ledger/{contract_id}/balance", response_model=BalanceRead, responses=PROBLEMS)
async def balance(contract_id: PathId, principal: Reader, session: Session) -> BalanceRead:
    """余额 (deducted, reversed, settled; outstanding and credit from net = deducted − reversed − settled)."""
    await visible_contract(session, principal, contract_id)
    b = await store.balance(session, contract_id)
    return BalanceRead(
        contract_id=contract_id, deducted=b.deducted, reversed=b.reversed, settled=b.settled,
        outstanding=b.outstanding, credit=b.credit,
    )  # fmt: skip


async def _verify(session: Session, contract_ids: list[int]) -> VerifyRead:
    contracts, entries, first_bad = await store.verify(session, contract_ids)
    bad = BadEntry(contract_id=first_bad[0], seq=first_bad[1]) if first_bad else None
    return VerifyRead(ok=bad is None, contracts_checked=contracts, entries_checked=entries, first_bad=bad)


@router.get("/ledger/{contract_id}/verify", response_model=VerifyRead, responses=PROBLEMS)
async def verify_contract(contract_id: PathId, principal: Verifier, session: Session) -> VerifyRead:
    """核验哈希链 (auditor, province_admin: every hash of the contract's chain recomputed)."""
    await visible_contract(session, principal, contract_id)
    return await _verify(session, [contract_id])


@router.get("/ledger/verify", response_model=VerifyRead, responses=PROBLEMS)
async def verify_region(
    principal: Verifier,
    session: Session,
    region: Annotated[str | None, Query(description="区划前缀 (contracts of counties below it)")] = None,
) -> VerifyRead:
    """核验全部哈希链 (every contract's chain under `region`; the first break named)."""
    code = listed_region(principal, region)
    return await _verify(session, await store.contracts_with_entries(session, code))


@router.get(
    "/deduction-summary",
    openapi_extra=exportable("deduction-summary"),
    response_model=DeductionSummary,
    responses=PROBLEMS,
)
async def deduction_summary(
    principal: Reader,
    session: Session,
    region: Annotated[str | None, Query(description="区划前缀 (region)")] = None,
    year: Annotated[int | None, Query(ge=2019, le=2100, description="年度 (default: this year)")] = None,
) -> DeductionSummary:
    """扣减汇总 (per contractor and contract: confirmed violations by kind, deducted and reversed in the
    year, outstanding now; a contractor its own)."""
    code, own = listed_scope(principal, region)
    chosen = year or business_today(datetime.now(UTC)).year
    rows = await store.year_summary(session, code, own, chosen)
    items = [
        SummaryItem(
            contract_id=c.id,
            contractor_id=c.contractor_id,
            county_code=c.county_code,
            violations=kinds,
            deducted=d,
            reversed=r,
            outstanding=o,
        )
        for c, kinds, d, r, o in rows
    ]
    return DeductionSummary(region=code or principal.region, year=chosen, items=items)
