"""Every query of the procurement domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.models import Bid, BidScore, Contract, Procurement, PurchasePlan


async def plan(session: AsyncSession, plan_id: int) -> PurchasePlan | None:
    return await session.get(PurchasePlan, plan_id)


async def add(session: AsyncSession, row: Procurement | Bid | BidScore | Contract) -> None:
    session.add(row)
    await session.flush()
    await session.refresh(row)


async def get(session: AsyncSession, procurement_id: int, *, lock: bool = False) -> Procurement | None:
    return await session.get(Procurement, procurement_id, with_for_update=lock, populate_existing=True)


async def bids(session: AsyncSession, procurement_id: int, contractor_id: int | None = None) -> Sequence[Bid]:
    stmt = select(Bid).where(Bid.procurement_id == procurement_id).order_by(Bid.id)
    if contractor_id is not None:
        stmt = stmt.where(Bid.contractor_id == contractor_id)
    return (await session.execute(stmt)).scalars().all()


async def bid(session: AsyncSession, procurement_id: int, bid_id: int) -> Bid | None:
    found = await session.get(Bid, bid_id, populate_existing=True)
    return found if found is not None and found.procurement_id == procurement_id else None


async def bid_of(session: AsyncSession, procurement_id: int, contractor_id: int) -> Bid | None:
    stmt = select(Bid).where(Bid.procurement_id == procurement_id, Bid.contractor_id == contractor_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def sheet(session: AsyncSession, bid_id: int, evaluator: str) -> BidScore | None:
    stmt = select(BidScore).where(BidScore.bid_id == bid_id, BidScore.evaluator == evaluator)
    return (await session.execute(stmt)).scalar_one_or_none()


async def sheets(session: AsyncSession, bid_ids: Sequence[int]) -> dict[int, list[BidScore]]:
    out: dict[int, list[BidScore]] = {i: [] for i in bid_ids}
    if bid_ids:
        stmt = select(BidScore).where(BidScore.bid_id.in_(bid_ids)).order_by(BidScore.id)
        for s in (await session.execute(stmt)).scalars():
            out[s.bid_id].append(s)
    return out
