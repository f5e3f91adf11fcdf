"""Every query of dispatches."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

from sqlalchemy import String, cast, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth.deps import scope_filter
from services.common.auth.tokens import Principal
from services.common.database import flush_guarded
from services.common.errors import invalid
from services.common.models import Contract, Dispatch, Person, Region
from services.common.pagination import PageParams, paginate


async def get(session: AsyncSession, dispatch_id: int, *, lock: bool = False) -> Dispatch | None:
    return await session.get(Dispatch, dispatch_id, with_for_update=lock, populate_existing=True)


async def contract_of(session: AsyncSession, dispatch: Dispatch) -> Contract:
    contract = await session.get(Contract, dispatch.contract_id)
    if contract is None:  # dispatches.contract_id is a foreign key: cannot happen
        raise LookupError(dispatch.contract_id)
    return contract


async def person(session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


async def region_exists(session: AsyncSession, code: str) -> bool:
    return await session.get(Region, code) is not None


async def lock_unit(session: AsyncSession, code: str) -> None:
    """Serialise dispatches into one unit until commit, so two contracts never both take a village's
    last place (the quota counts every contract's dispatches)."""
    key = int.from_bytes(hashlib.sha256(f"dispatch-unit\x1f{code}".encode()).digest()[:8], "big", signed=True)
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def occupied(session: AsyncSession, contract_id: int, level: str, region: str, on: date) -> int:
    """The contract's dispatches to this post that are ongoing on ``on`` or begin later."""
    stmt = select(func.count()).where(
        Dispatch.contract_id == contract_id,
        Dispatch.posting_level == level,
        Dispatch.region_code == region,
        or_(Dispatch.end_date.is_(None), Dispatch.end_date >= on),
    )
    return int((await session.execute(stmt)).scalar_one())


async def add(session: AsyncSession, dispatch: Dispatch) -> None:
    """Insert; the database's exclusion constraint is the last word on one dispatch at a time (a
    period overlapping one that begins later, or a racing request)."""
    session.add(dispatch)
    already = invalid(
        "ALREADY_DISPATCHED", "该人员在此期间已有派遣", "The person holds a dispatch in this period"
    )
    await flush_guarded(session, {"one_dispatch_at_a_time": already})


async def open_under(session: AsyncSession, contract_id: int) -> Sequence[Dispatch]:
    stmt = (
        select(Dispatch)
        .where(Dispatch.contract_id == contract_id, Dispatch.end_date.is_(None))
        .order_by(Dispatch.id)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalars().all()


async def list_dispatches(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    region: str,
    own: int | None,
    contract_id: int | None,
    ongoing: bool | None,
) -> tuple[Sequence[Dispatch], str | None]:
    stmt = select(Dispatch)
    if principal.role == "contractor":
        mine = select(Contract.id).where(Contract.contractor_id == own)
        stmt = stmt.where(Dispatch.contract_id.in_(mine))
    elif principal.role == "worker":
        stmt = stmt.where(cast(Dispatch.person_id, String) == principal.sub)
    else:
        stmt = stmt.where(scope_filter(Dispatch.region_code, principal))
    stmt = stmt.where(Dispatch.region_code.startswith(region, autoescape=True))
    if contract_id is not None:
        stmt = stmt.where(Dispatch.contract_id == contract_id)
    if ongoing is True:
        stmt = stmt.where(Dispatch.end_date.is_(None))
    elif ongoing is False:
        stmt = stmt.where(Dispatch.end_date.is_not(None))
    return await paginate(session, stmt, Dispatch.id, params)
