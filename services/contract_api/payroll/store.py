"""Every query of payroll records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.models import Contract, Dispatch, PayrollRecord


async def record(session: AsyncSession, dispatch_id: int, month: date) -> PayrollRecord | None:
    stmt = (
        select(PayrollRecord)
        .where(PayrollRecord.dispatch_id == dispatch_id, PayrollRecord.month == month)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def add(session: AsyncSession, row: PayrollRecord) -> None:
    session.add(row)
    await session.flush()


async def records(session: AsyncSession, dispatch_id: int) -> Sequence[PayrollRecord]:
    stmt = select(PayrollRecord).where(PayrollRecord.dispatch_id == dispatch_id).order_by(PayrollRecord.month)
    return (await session.execute(stmt)).scalars().all()


async def month_rows(
    session: AsyncSession, *, region: str, own: int | None, month: date, last: date
) -> list[tuple[Dispatch, int, PayrollRecord | None]]:
    """Every dispatch under ``region`` (a contractor: its own) that ran in the month, with its record."""
    stmt = (
        select(Dispatch, Contract.contractor_id, PayrollRecord)
        .join(Contract, Contract.id == Dispatch.contract_id)
        .outerjoin(
            PayrollRecord, and_(PayrollRecord.dispatch_id == Dispatch.id, PayrollRecord.month == month)
        )
        .where(
            Dispatch.region_code.startswith(region, autoescape=True),
            Dispatch.start_date <= last,
            or_(Dispatch.end_date.is_(None), Dispatch.end_date >= month),
        )
        .order_by(Dispatch.id)
    )
    if own is not None:
        stmt = stmt.where(Contract.contractor_id == own)
    return [(d, contractor, rec) for d, contractor, rec in (await session.execute(stmt)).all()]
