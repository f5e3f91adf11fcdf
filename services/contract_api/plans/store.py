"""Every query of the purchase-plan domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth.deps import scope_filter
from services.common.auth.tokens import Principal
from services.common.models import Establishment, EstablishmentPost, PurchaseNeed, PurchasePlan
from services.common.pagination import PageParams, paginate


async def needs_for_update(session: AsyncSession, ids: Sequence[int]) -> dict[int, PurchaseNeed]:
    """The needs, locked: two plans racing for one need cannot both take it."""
    stmt = (
        select(PurchaseNeed)
        .where(PurchaseNeed.id.in_(set(ids)))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {n.id: n for n in (await session.execute(stmt)).scalars()}


async def posts(session: AsyncSession, units: Sequence[str], today: date) -> dict[str, tuple[int, int]]:
    """Authorized posts and established staff in post today, of each unit that has an establishment."""
    in_post = (
        select(EstablishmentPost.region_code, func.count().label("n"))
        .where(
            EstablishmentPost.region_code.in_(units),
            EstablishmentPost.since <= today,
            or_(EstablishmentPost.until.is_(None), EstablishmentPost.until >= today),
        )
        .group_by(EstablishmentPost.region_code)
        .subquery()
    )
    stmt = (
        select(Establishment.region_code, Establishment.authorized_posts, func.coalesce(in_post.c.n, 0))
        .outerjoin(in_post, in_post.c.region_code == Establishment.region_code)
        .where(Establishment.region_code.in_(units))
    )
    return {code: (int(authorized), int(n)) for code, authorized, n in await session.execute(stmt)}


async def add(session: AsyncSession, plan: PurchasePlan, needs: Sequence[PurchaseNeed]) -> None:
    session.add(plan)
    await session.flush()
    await session.execute(
        update(PurchaseNeed).where(PurchaseNeed.id.in_([n.id for n in needs])).values(plan_id=plan.id)
    )
    await session.refresh(plan)


async def get(session: AsyncSession, plan_id: int, *, lock: bool = False) -> PurchasePlan | None:
    return await session.get(PurchasePlan, plan_id, with_for_update=lock, populate_existing=True)


async def need_ids(session: AsyncSession, plan_ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {i: [] for i in plan_ids}
    if plan_ids:
        stmt = (
            select(PurchaseNeed.plan_id, PurchaseNeed.id)
            .where(PurchaseNeed.plan_id.in_(plan_ids))
            .order_by(PurchaseNeed.id)
        )
        for plan_id, need_id in await session.execute(stmt):
            if plan_id is not None:
                out[plan_id].append(need_id)
    return out


async def move(session: AsyncSession, plan: PurchasePlan, status: str, **values: Any) -> None:
    await session.execute(
        update(PurchasePlan)
        .where(PurchasePlan.id == plan.id)
        .values(status=status, version=PurchasePlan.version + 1, updated_at=func.now(), **values)
    )
    await session.refresh(plan)


async def release_needs(session: AsyncSession, plan_id: int) -> None:
    """A rejected plan lets its needs go into another plan."""
    await session.execute(update(PurchaseNeed).where(PurchaseNeed.plan_id == plan_id).values(plan_id=None))


async def list_plans(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    region: str,
    status: str | None,
    year: int | None,
) -> tuple[Sequence[PurchasePlan], str | None]:
    stmt = select(PurchasePlan).where(
        scope_filter(PurchasePlan.county_code, principal),
        PurchasePlan.county_code.startswith(region, autoescape=True),
    )
    if status is not None:
        stmt = stmt.where(PurchasePlan.status == status)
    if year is not None:
        stmt = stmt.where(PurchasePlan.year == year)
    return await paginate(session, stmt, PurchasePlan.id, params)
