"""Every query of appeals."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.models import Appeal, Contract, Violation
from services.common.pagination import PageParams, paginate


async def get(session: AsyncSession, appeal_id: int, *, lock: bool = False) -> Appeal | None:
    return await session.get(Appeal, appeal_id, with_for_update=lock, populate_existing=True)


async def exists_for(session: AsyncSession, violation_id: int) -> bool:
    return (
        await session.execute(select(Appeal.id).where(Appeal.violation_id == violation_id))
    ).first() is not None


async def add(session: AsyncSession, appeal: Appeal) -> None:
    session.add(appeal)
    await session.flush()
    await session.refresh(appeal)


async def list_appeals(
    session: AsyncSession, params: PageParams, *, region: str, own: int | None, status: str | None
) -> tuple[Sequence[Appeal], str | None]:
    stmt = (
        select(Appeal)
        .join(Violation, Violation.id == Appeal.violation_id)
        .where(Violation.region_code.startswith(region, autoescape=True))
    )
    if own is not None:
        stmt = stmt.where(Appeal.contract_id.in_(select(Contract.id).where(Contract.contractor_id == own)))
    if status is not None:
        stmt = stmt.where(Appeal.status == status)
    return await paginate(session, stmt, Appeal.id, params)
