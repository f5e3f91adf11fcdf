"""Every query of the purchase-need domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth.deps import scope_filter
from services.common.auth.tokens import Principal
from services.common.models import CatalogItem, PurchaseNeed, PurchaseNeedItem
from services.common.pagination import PageParams, paginate


async def purchasable(session: AsyncSession, codes: Sequence[str]) -> dict[str, bool]:
    stmt = select(CatalogItem.code, CatalogItem.purchasable).where(CatalogItem.code.in_(set(codes)))
    return {row.code: row.purchasable for row in await session.execute(stmt)}


async def add(session: AsyncSession, need: PurchaseNeed, items: Sequence[PurchaseNeedItem]) -> None:
    session.add(need)
    await session.flush()
    for item in items:
        item.need_id = need.id
    session.add_all(items)
    await session.flush()
    await session.refresh(need)


async def get(session: AsyncSession, need_id: int, *, lock: bool = False) -> PurchaseNeed | None:
    return await session.get(PurchaseNeed, need_id, with_for_update=lock, populate_existing=True)


async def items_of(session: AsyncSession, need_ids: Sequence[int]) -> dict[int, list[PurchaseNeedItem]]:
    out: dict[int, list[PurchaseNeedItem]] = {i: [] for i in need_ids}
    if not need_ids:
        return out
    stmt = (
        select(PurchaseNeedItem)
        .where(PurchaseNeedItem.need_id.in_(need_ids))
        .order_by(PurchaseNeedItem.need_id, PurchaseNeedItem.position)
    )
    for item in (await session.execute(stmt)).scalars():
        out[item.need_id].append(item)
    return out


async def move(session: AsyncSession, need: PurchaseNeed, status: str, return_reason: str | None) -> None:
    """The transition's write: new status, version + 1, in one statement."""
    row = (
        await session.execute(
            update(PurchaseNeed)
            .where(PurchaseNeed.id == need.id)
            .values(
                status=status,
                return_reason=return_reason,
                version=PurchaseNeed.version + 1,
                updated_at=func.now(),
            )
            .returning(PurchaseNeed.version, PurchaseNeed.updated_at)
        )
    ).one()
    need.status, need.return_reason, need.version, need.updated_at = (
        status,
        return_reason,
        row.version,
        row.updated_at,
    )


async def list_needs(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    region: str,
    status: str | None,
    year: int | None,
) -> tuple[Sequence[PurchaseNeed], str | None]:
    stmt = select(PurchaseNeed).where(
        scope_filter(PurchaseNeed.region_code, principal),
        PurchaseNeed.region_code.startswith(region, autoescape=True),
    )
    if status is not None:
        stmt = stmt.where(PurchaseNeed.status == status)
    if year is not None:
        stmt = stmt.where(PurchaseNeed.year == year)
    return await paginate(session, stmt, PurchaseNeed.id, params)
