"""Every query of replacement requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.models import Contract, Dispatch, ReplacementRequest
from services.common.pagination import PageParams, paginate


async def get(session: AsyncSession, request_id: int, *, lock: bool = False) -> ReplacementRequest | None:
    return await session.get(ReplacementRequest, request_id, with_for_update=lock, populate_existing=True)


async def dispatch(session: AsyncSession, dispatch_id: int) -> Dispatch | None:
    return await session.get(Dispatch, dispatch_id, populate_existing=True)


async def add(session: AsyncSession, row: ReplacementRequest) -> None:
    session.add(row)
    await session.flush()
    await session.refresh(row)


async def list_requests(
    session: AsyncSession,
    params: PageParams,
    *,
    region: str,
    own: int | None,
    status: str | None,
    today: date,
) -> tuple[Sequence[ReplacementRequest], str | None]:
    stmt = select(ReplacementRequest).where(
        ReplacementRequest.region_code.startswith(region, autoescape=True)
    )
    if own is not None:
        stmt = stmt.where(
            ReplacementRequest.contract_id.in_(select(Contract.id).where(Contract.contractor_id == own))
        )
    if status == "fulfilled":
        stmt = stmt.where(ReplacementRequest.new_dispatch_id.is_not(None))
    elif status == "open":
        stmt = stmt.where(ReplacementRequest.new_dispatch_id.is_(None), ReplacementRequest.due_date >= today)
    elif status == "overdue":
        stmt = stmt.where(ReplacementRequest.new_dispatch_id.is_(None), ReplacementRequest.due_date < today)
    return await paginate(session, stmt, ReplacementRequest.id, params)
