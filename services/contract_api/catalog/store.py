"""Every query of the service catalog."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.models import CatalogItem


async def all_items(session: AsyncSession, purchasable: bool | None) -> Sequence[CatalogItem]:
    stmt = select(CatalogItem).order_by(CatalogItem.purchasable.desc(), CatalogItem.code)
    if purchasable is not None:
        stmt = stmt.where(CatalogItem.purchasable.is_(purchasable))
    return (await session.execute(stmt)).scalars().all()


async def get(session: AsyncSession, code: str) -> CatalogItem | None:
    return await session.get(CatalogItem, code)


async def add(session: AsyncSession, item: CatalogItem) -> None:
    session.add(item)
    await session.flush()
