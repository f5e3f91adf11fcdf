"""Every query of violations (and the contract_api rows they point at)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth.deps import scope_filter
from services.common.auth.tokens import Principal
from services.common.models import Contract, Dispatch, Violation
from services.common.pagination import PageParams, paginate


async def dispatch(session: AsyncSession, dispatch_id: int) -> tuple[Dispatch, Contract] | None:
    row = (
        await session.execute(
            select(Dispatch, Contract)
            .join(Contract, Contract.id == Dispatch.contract_id)
            .where(Dispatch.id == dispatch_id)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def get(session: AsyncSession, violation_id: int, *, lock: bool = False) -> Violation | None:
    return await session.get(Violation, violation_id, with_for_update=lock, populate_existing=True)


async def add(session: AsyncSession, violation: Violation) -> None:
    session.add(violation)
    await session.flush()


async def list_violations(
    session: AsyncSession, principal: Principal, params: PageParams, *, region: str, own: int | None,
    contract_id: int | None, status: str | None,
) -> tuple[Sequence[Violation], str | None]:  # fmt: skip
    stmt = select(Violation).where(Violation.region_code.startswith(region, autoescape=True))
    if principal.role == "contractor":
        stmt = stmt.where(Violation.contract_id.in_(select(Contract.id).where(Contract.contractor_id == own)))
    else:
        stmt = stmt.where(scope_filter(Violation.region_code, principal))
    if contract_id is not None:
        stmt = stmt.where(Violation.contract_id == contract_id)
    if status is not None:
        stmt = stmt.where(Violation.status == status)
    return await paginate(session, stmt, Violation.id, params)


async def confirmed_of(session: AsyncSession, contract_id: int) -> Sequence[Violation]:
    stmt = select(Violation).where(Violation.contract_id == contract_id, Violation.status == "confirmed")
    return (await session.execute(stmt)).scalars().all()
