"""Every query of the contractor domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth.deps import scope_filter
from services.common.auth.tokens import Principal
from services.common.models import Contractor, Debarment
from services.common.pagination import PageParams, paginate


async def add(session: AsyncSession, contractor: Contractor) -> None:
    session.add(contractor)
    await session.flush()
    await session.refresh(contractor)


async def by_uscc(session: AsyncSession, uscc: str) -> int | None:
    return (await session.execute(select(Contractor.id).where(Contractor.uscc == uscc))).scalar_one_or_none()


async def get(session: AsyncSession, contractor_id: int) -> Contractor | None:
    return await session.get(Contractor, contractor_id)


async def list_contractors(
    session: AsyncSession, principal: Principal, params: PageParams, *, region: str, own: int | None
) -> tuple[Sequence[Contractor], str | None]:
    """Contractors registered in ``region`` (inside the caller's scope); only ``own`` when given."""
    stmt = select(Contractor).where(
        scope_filter(Contractor.region_code, principal),
        Contractor.region_code.startswith(region, autoescape=True),
    )
    if own is not None:
        stmt = stmt.where(Contractor.id == own)
    return await paginate(session, stmt, Contractor.id, params)


async def debarred_ids(session: AsyncSession, ids: Sequence[int], today: date) -> set[int]:
    """Which of these contractors are under a debarment in force on ``today``."""
    if not ids:
        return set()
    stmt = select(Debarment.contractor_id).where(Debarment.contractor_id.in_(ids), Debarment.until > today)
    return set((await session.execute(stmt)).scalars())


async def is_debarred(session: AsyncSession, contractor_id: int, today: date) -> bool:
    stmt = select(exists().where(Debarment.contractor_id == contractor_id, Debarment.until > today))
    return bool((await session.execute(stmt)).scalar_one())


async def debarments(session: AsyncSession, contractor_id: int) -> Sequence[Debarment]:
    stmt = select(Debarment).where(Debarment.contractor_id == contractor_id).order_by(Debarment.id)
    return (await session.execute(stmt)).scalars().all()


async def public_debarments(session: AsyncSession, today: date) -> Sequence[tuple[Debarment, Contractor]]:
    """Every debarment in force on ``today``, with its contractor, for the public list."""
    stmt = (
        select(Debarment, Contractor)
        .join(Contractor, Contractor.id == Debarment.contractor_id)
        .where(Debarment.until > today)
        .order_by(Debarment.id)
    )
    return [(row.Debarment, row.Contractor) for row in await session.execute(stmt)]
