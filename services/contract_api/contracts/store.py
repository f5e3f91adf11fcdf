"""Every query of the contract domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth.deps import scope_filter
from services.common.auth.tokens import Principal
from services.common.models import Contract, Debarment
from services.common.pagination import PageParams, paginate


async def get(session: AsyncSession, contract_id: int, *, lock: bool = False) -> Contract | None:
    return await session.get(Contract, contract_id, with_for_update=lock, populate_existing=True)


async def add_debarment(session: AsyncSession, debarment: Debarment) -> None:
    session.add(debarment)
    await session.flush()


async def list_contracts(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    region: str,
    own: int | None,
    status: str | None,
) -> tuple[Sequence[Contract], str | None]:
    stmt = select(Contract)
    if own is not None:
        stmt = stmt.where(Contract.contractor_id == own)
    else:
        stmt = stmt.where(
            scope_filter(Contract.county_code, principal),
            Contract.county_code.startswith(region, autoescape=True),
        )
    if status is not None:
        stmt = stmt.where(Contract.status == status)
    return await paginate(session, stmt, Contract.id, params)
