"""Every query of payments."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.models import Payment


async def of_period(session: AsyncSession, contract_id: int, period: str) -> Payment | None:
    stmt = (
        select(Payment).where(Payment.contract_id == contract_id, Payment.period == period).with_for_update()
    )
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


async def get(session: AsyncSession, payment_id: int) -> Payment | None:
    return await session.get(Payment, payment_id, with_for_update=True, populate_existing=True)


async def add(session: AsyncSession, payment: Payment) -> None:
    session.add(payment)
    await session.flush()
    await session.refresh(payment)


async def of_contract(session: AsyncSession, contract_id: int) -> Sequence[Payment]:
    stmt = select(Payment).where(Payment.contract_id == contract_id).order_by(Payment.id)
    return (await session.execute(stmt)).scalars().all()
