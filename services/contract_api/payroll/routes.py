"""Payroll records per dispatch and month, and the compliance report (contracts.md *Payroll*)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Response

from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, listed_scope, require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.concurrency import check_if_match, etag
from services.common.exports import exportable
from services.common.ids import PathId
from services.common.models import PayrollRecord
from services.common.months import Day, add_months, business_today, format_month, parse_month
from services.common.transaction import Session
from services.contract_api.dispatches.routes import PROBLEMS, visible_dispatch
from services.contract_api.payroll import rules, store
from services.contract_api.payroll.schemas import (
    ComplianceCounts,
    ComplianceItem,
    PayrollCompliance,
    PayrollPut,
    PayrollRead,
)

router = make_router(prefix="/api/v1", tags=["payroll"])
Contractor = Annotated[Principal, Depends(require("contractor"))]
Reader = Annotated[Principal, Depends(require(*READ_ROLES, "contractor", "worker", scope="contracts:read"))]
MonthPath = Annotated[str, Path(description="所属月份 YYYY-MM (month paid for)")]
IfMatch = Annotated[str | None, Header(description="乐观锁 (ETag of the record replaced)")]
ReportReader = Annotated[Principal, Depends(require(*READ_ROLES, "contractor", scope="contracts:read"))]


def payroll_read(r: PayrollRecord) -> PayrollRead:
    return PayrollRead(
        dispatch_id=r.dispatch_id, month=format_month(r.month), gross_wage=r.gross_wage, paid_on=r.paid_on,
        social_insurance_paid=r.social_insurance_paid, version=r.version, updated_at=r.updated_at,
    )  # fmt: skip


@router.put("/dispatches/{dispatch_id}/payroll/{month}", response_model=PayrollRead, responses=PROBLEMS)
async def put_payroll(
    dispatch_id: PathId, month: MonthPath, body: PayrollPut, principal: Contractor, session: Session,
    response: Response, if_match: IfMatch = None,
) -> PayrollRead:  # fmt: skip
    """记录当月工资和社保 (the contractor, for its dispatch; `month` is YYYY-MM). 201 when first
    recorded, 200 when replaced (`If-Match` guards a replacement)."""
    first = parse_month(month, "month")
    dispatch = await visible_dispatch(session, principal, dispatch_id, lock=True)
    now = datetime.now(UTC)
    rules.check_record(first, body.paid_on, dispatch.start_date, dispatch.end_date, business_today(now))
    row = await store.record(session, dispatch.id, first)
    if row is None:
        check_if_match(if_match, None)  # If-Match on a record not yet made: 412
        row = PayrollRecord(dispatch_id=dispatch.id, month=first, **body.model_dump())
        await store.add(session, row)
        response.status_code, action = 201, "created"
    else:
        check_if_match(if_match, row.version)
        row.gross_wage, row.paid_on = body.gross_wage, body.paid_on
        row.social_insurance_paid = body.social_insurance_paid
        row.version += 1
        row.updated_at = now
        await session.flush()
        action = "updated"
    out = payroll_read(row)
    record_change(
        session, principal, action=action, resource="payroll_record", resource_id=f"{dispatch.id}:{month}",
        region=dispatch.region_code, data=out.model_dump(mode="json"),
    )  # fmt: skip
    response.headers["ETag"] = etag(row.version)
    return out


@router.get(
    "/dispatches/{dispatch_id}/payroll",
    openapi_extra=exportable("payroll"),
    response_model=list[PayrollRead],
    responses=PROBLEMS,
)
async def list_payroll(dispatch_id: PathId, principal: Reader, session: Session) -> list[PayrollRead]:
    """工资发放记录 (a dispatch's records by month: officials in scope, the contractor, the worker)."""
    dispatch = await visible_dispatch(session, principal, dispatch_id)
    return [payroll_read(r) for r in await store.records(session, dispatch.id)]


@router.get(
    "/payroll-compliance",
    openapi_extra=exportable("payroll-compliance"),
    response_model=PayrollCompliance,
    responses=PROBLEMS,
)
async def payroll_compliance(
    principal: ReportReader,
    session: Session,
    region: Annotated[str | None, Query(description="区划前缀 (posting region and below)")] = None,
    month: Annotated[str | None, Query(description="所属月份 YYYY-MM (default: last month)")] = None,
    as_of: Annotated[Day | None, Query(description="检查日 (default: today in Yunnan)")] = None,
) -> PayrollCompliance:
    """工资社保合规 (every dispatch that ran in `month`, with `PAYROLL_MISSING` once the 15th of the
    following month has passed, `UNDERPAID` below the agreed monthly wage, `SOCIAL_INSURANCE_MISSING`).
    A contractor sees its own dispatches."""
    today = business_today(datetime.now(UTC))
    checked = as_of or today
    first = parse_month(month, "month") if month else add_months(today.replace(day=1), -1)
    code, own = listed_scope(principal, region)
    rows = await store.month_rows(session, region=code, own=own, month=first, last=rules.last_day(first))
    items = []
    for d, contractor_id, rec in rows:
        paid = rules.Paid(rec.gross_wage, rec.social_insurance_paid) if rec is not None else None
        items.append(
            ComplianceItem(
                dispatch_id=d.id,
                contract_id=d.contract_id,
                contractor_id=contractor_id,
                region_code=d.region_code,
                posting_level=d.posting_level,
                monthly_wage=d.monthly_wage,
                gross_wage=rec.gross_wage if rec else None,
                paid_on=rec.paid_on if rec else None,
                social_insurance_paid=rec.social_insurance_paid if rec else None,
                flags=rules.flags(first, checked, d.monthly_wage, paid),
            )
        )
    counts = ComplianceCounts(
        dispatches=len(items),
        compliant=sum(1 for i in items if not i.flags),
        payroll_missing=sum(1 for i in items if "PAYROLL_MISSING" in i.flags),
        underpaid=sum(1 for i in items if "UNDERPAID" in i.flags),
        social_insurance_missing=sum(1 for i in items if "SOCIAL_INSURANCE_MISSING" in i.flags),
    )
    return PayrollCompliance(
        region=code or principal.region, month=format_month(first), as_of=checked,
        deadline=rules.deadline(first), counts=counts, items=items,
    )  # fmt: skip
