"""Payments (contracts.md *Payments*) — a write across two services that a crash of either, or of the
database, can never leave half done.

The design, step by step:

1. **Record the payment pending**, with a ``payment_ref`` derived from the contract and the period
   (one payment per contract and period), and *commit* (``commit_step``): the connection goes back
   before any HTTP call, and from now on the payment exists and can be found again.
2. **Settle**: ``POST /api/v1/settlements`` on penalty_api with that ``payment_ref``. penalty_api
   appends at most one settlement entry per ``payment_ref`` and answers the same figures to every
   repeat — so this step can be done any number of times.
3. **Complete**: store the figures and mark the payment ``completed``, in a second transaction.

A crash before 1 commits: nothing happened. Between 1 and 2, or inside 2 before penalty_api commits:
the payment is pending and no entry exists. Between penalty_api's commit and 3: the entry exists, the
payment is pending. In every case the answer was not a 201, and the county's retry — the same
``POST`` with the same period — finds the pending payment, settles again (penalty_api replays the
figures instead of appending) and completes it. So no deduction is applied twice, none is lost, and
the payment shows what was deducted. Pending payments are listed by ``GET .../payments``.
``tests/contracts/test_payment_crashes.py`` SIGKILLs real processes at these points.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request, Response

from services.common import faults
from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.errors import conflict, invalid, not_found
from services.common.exports import exportable
from services.common.ids import PathId
from services.common.models import Payment
from services.common.transaction import Session, commit_step
from services.contract_api.contracts.routes import visible_contract
from services.contract_api.payments import settlement, store
from services.contract_api.payments.schemas import PaymentCreate, PaymentRead

router = make_router(prefix="/api/v1", tags=["payments"])
County = Annotated[Principal, Depends(require("county_official"))]
Reader = Annotated[Principal, Depends(require(*READ_ROLES, "contractor", scope="contracts:read"))]
PAYABLE = ("active", "suspended", "completed", "terminated")
PROBLEMS: dict[int | str, dict[str, str]] = {
    404: {"description": "合同不存在或不在管辖范围内 (unknown or out of scope)"},
    409: {"description": "该期间已支付 (PAYMENT_EXISTS), 结算被拒绝 (SETTLEMENT_REFUSED)"},
    422: {"description": "期间与支付周期不符 (PERIOD_MISMATCH), 合同不可支付 (CONTRACT_NOT_PAYABLE)"},
    503: {"description": "已登记、待结算 (SETTLEMENT_UNAVAILABLE): 以相同期间重试"},
}


def payment_ref(contract_id: int, period: str) -> str:
    return f"contract-{contract_id}-{period}"


def _changed(session: Session, principal: Principal, p: Payment, region: str, action: str) -> PaymentRead:
    out = PaymentRead.model_validate(p)
    record_change(
        session, principal, action=action, resource="payment", resource_id=str(p.id), region=region,
        data=out.model_dump(mode="json"),
    )  # fmt: skip
    return out


@router.post(
    "/contracts/{contract_id}/payments", status_code=201, response_model=PaymentRead, responses=PROBLEMS
)
async def pay(
    contract_id: PathId, body: PaymentCreate, principal: County, session: Session, request: Request,
    response: Response,
) -> PaymentRead:  # fmt: skip
    """支付 (the county official): the period's payment, net of the deductions penalty_api settles
    against it. One payment per contract and period: sent again it finishes a pending one or answers
    the completed one (200); another amount for a paid period → 409 `PAYMENT_EXISTS`."""
    contract = await visible_contract(session, principal, contract_id)
    if contract.status not in PAYABLE:
        raise invalid("CONTRACT_NOT_PAYABLE", "合同尚未履行，不能支付", "The contract has not begun")
    quarterly = "Q" in body.period
    if contract.payment_schedule is not None and quarterly != (contract.payment_schedule == "quarterly"):
        raise invalid(
            "PERIOD_MISMATCH", "期间与合同的支付周期不符", "The period does not match the payment schedule"
        )
    payment = await store.of_period(session, contract.id, body.period)
    if payment is not None and payment.gross_amount != body.gross_amount:
        raise conflict(
            "PAYMENT_EXISTS", "该期间已有另一金额的支付", "This period has a payment of another amount"
        )
    if payment is not None and payment.status == "completed":
        response.status_code = 200
        return PaymentRead.model_validate(payment)
    if payment is None:
        payment = Payment(
            contract_id=contract.id, period=body.period, gross_amount=body.gross_amount,
            payment_ref=payment_ref(contract.id, body.period), created_by=principal.sub,
        )  # fmt: skip
        await store.add(session, payment)
        _changed(session, principal, payment, contract.county_code, "recorded")
    else:
        response.status_code = 200  # finishing one recorded earlier
    payment_id, ref, region = payment.id, payment.payment_ref, contract.county_code
    await commit_step(session)  # step 1 is durable; no connection is held across the call
    faults.point("payment.after_pending")
    settled = await settlement.settle(
        settlement.client(request), authorization=request.headers.get("authorization", ""),
        request_id=session.info.get("request_id", "-"), payment_id=payment_id,
        body={"contract_id": contract_id, "period": body.period, "gross_amount": f"{body.gross_amount:.2f}",
              "payment_ref": ref},
    )  # fmt: skip
    faults.point("payment.after_settlement")
    payment = await store.get(session, payment_id)
    if payment is None:  # it was committed in step 1
        raise not_found("支付", "payment")
    if payment.status == "pending":
        payment.deductions_applied, payment.credit_repaid = settled.deductions_applied, settled.credit_repaid
        payment.net_amount, payment.status = settled.net_amount, "completed"
        payment.completed_at = datetime.now(UTC)
        await session.flush()
        return _changed(session, principal, payment, region, "completed")
    return PaymentRead.model_validate(payment)


@router.get(
    "/contracts/{contract_id}/payments",
    openapi_extra=exportable("payments"),
    response_model=list[PaymentRead],
    responses=PROBLEMS,
)
async def list_payments(contract_id: PathId, principal: Reader, session: Session) -> list[PaymentRead]:
    """支付记录 (officials in scope; the contractor its own), pending ones included."""
    contract = await visible_contract(session, principal, contract_id)
    return [PaymentRead.model_validate(p) for p in await store.of_contract(session, contract.id)]
