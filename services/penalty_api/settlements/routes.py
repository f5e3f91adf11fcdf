"""Settlement against payments (penalties.md *Settlement against payments*): one settlement entry
per ``payment_ref``; the same reference again answers the stored result and appends nothing,
whatever the headers — contract_api's payment relies on that to finish after any crash."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response

from services.common import faults
from services.common.app import router as make_router
from services.common.auth.deps import ensure_in_scope, require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.errors import invalid_field, not_found
from services.common.models import Settlement
from services.common.transaction import Session
from services.penalty_api.ledger import store as ledger
from services.penalty_api.settlements.schemas import SettlementCreate, SettlementRead
from services.penalty_api.violations.routes import PROBLEMS

router = make_router(prefix="/api/v1", tags=["settlements"])
County = Annotated[Principal, Depends(require("county_official"))]


def settlement_read(s: Settlement) -> SettlementRead:
    return SettlementRead(
        payment_ref=s.payment_ref, contract_id=s.contract_id, period=s.period, gross_amount=s.gross_amount,
        deductions_applied=s.deductions_applied, credit_repaid=s.credit_repaid, net_amount=s.net_amount,
        carried_forward=s.carried_forward, ledger_seq=s.ledger_seq,
    )  # fmt: skip


def _replay(found: Settlement, body: SettlementCreate) -> SettlementRead:
    if (found.contract_id, found.period, found.gross_amount) != (
        body.contract_id,
        body.period,
        body.gross_amount,
    ):
        raise invalid_field(
            "payment_ref",
            "PAYMENT_REF_REUSED",
            "该支付编号已用于另一笔支付",
            "This payment_ref belongs to another payment",
        )
    return settlement_read(found)


@router.post("/settlements", status_code=201, response_model=SettlementRead, responses=PROBLEMS)
async def settle(
    body: SettlementCreate, principal: County, session: Session, response: Response
) -> SettlementRead:
    """结算 (the county official of the contract's county; contract_api calls it with that official's
    token). Appends `min(outstanding, gross)` when something is owed, `−credit` when a credit is due
    (zero when neither); 201 the first time, 200 with the same answer for the same `payment_ref`."""
    contract = await ledger.contract(session, body.contract_id)
    if contract is None:
        raise not_found("合同", "contract")
    ensure_in_scope(principal, contract.county_code, "合同", "contract")
    found = await session.get(Settlement, body.payment_ref)
    if found is not None:
        response.status_code = 200
        return _replay(found, body)
    locked = await ledger.head(session, contract.id, lock=True)
    # A twin with the same reference may have committed while this one waited for the lock.
    found = await session.get(Settlement, body.payment_ref, populate_existing=True)
    if found is not None:
        response.status_code = 200
        return _replay(found, body)
    entry, figures = await ledger.settle(
        session, locked, body.gross_amount, body.payment_ref, body.period, created_by=principal.sub,
        request_id=session.info.get("request_id", "-"),
    )  # fmt: skip
    row = Settlement(
        payment_ref=body.payment_ref, contract_id=contract.id, period=body.period,
        gross_amount=body.gross_amount, deductions_applied=figures.deductions_applied,
        credit_repaid=figures.credit_repaid, net_amount=figures.net_amount,
        carried_forward=figures.carried_forward, ledger_seq=entry.seq,
    )  # fmt: skip
    session.add(row)
    await session.flush()
    out = settlement_read(row)
    record_change(
        session, principal, action="settled", resource="settlement", resource_id=body.payment_ref,
        region=contract.county_code, data=out.model_dump(mode="json"),
    )  # fmt: skip
    faults.point("settlement.before_commit")
    return out
