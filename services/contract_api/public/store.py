"""Every query of the public disclosure: contracts with their purchaser, contractor, procurement and
winning bid. Only organisations appear; no person's data is selected at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, cast, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.models import Bid, Contract, Contractor, Procurement, Region


@dataclass(frozen=True)
class Disclosed:
    contract_id: int
    county_code: str
    county_name: str
    contractor_name: str
    uscc: str
    status: str
    amount: Decimal | None
    start_date: date | None
    end_date: date | None
    signed_on: date | None
    awarded_on: date
    posts: list[dict[str, Any]]
    version: int
    updated_at: datetime
    procurement_id: int | None
    method: str | None
    budget_ceiling: Decimal | None
    bid_id: int | None
    winning_score: Decimal | None


async def disclosed(
    session: AsyncSession, *, region: str, year: int | None, after: int | None, limit: int | None
) -> list[Disclosed]:
    """Contracts under ``region`` filed under ``year``: the year signed, or — not yet signed — the
    year awarded (the draft made by the award)."""
    awarded = func.date(func.timezone("Asia/Shanghai", Contract.created_at))
    filed = func.coalesce(Contract.signed_on, awarded)
    stmt = (
        select(
            Contract.id,
            Contract.county_code,
            Region.name,
            Contractor.name,
            Contractor.uscc,
            Contract.status,
            Contract.amount,
            Contract.start_date,
            Contract.end_date,
            Contract.signed_on,
            awarded,
            Contract.posts,
            Contract.version,
            Contract.updated_at,
            Procurement.id,
            Procurement.method,
            Procurement.budget_ceiling,
            Bid.id,
            Bid.total,
        )
        .join(Contractor, Contractor.id == Contract.contractor_id)
        .join(Region, Region.code == Contract.county_code)
        .outerjoin(Procurement, Procurement.id == Contract.procurement_id)
        .outerjoin(Bid, Bid.id == Contract.bid_id)
        .where(Contract.county_code.startswith(region, autoescape=True))
        .order_by(Contract.id)
    )
    if year is not None:
        stmt = stmt.where(cast(extract("year", filed), Integer) == year)
    if after is not None:
        stmt = stmt.where(Contract.id > after)
    if limit is not None:
        stmt = stmt.limit(limit)
    out = []
    for row in await session.execute(stmt):
        values: list[Any] = list(row)
        values[11] = values[11] or []
        out.append(Disclosed(*values))
    return out


async def tenderers(session: AsyncSession, procurement_ids: list[int]) -> dict[int, int]:
    """How many bids each procurement received."""
    if not procurement_ids:
        return {}
    stmt = (
        select(Bid.procurement_id, func.count())
        .where(Bid.procurement_id.in_(procurement_ids))
        .group_by(Bid.procurement_id)
    )
    return {int(pid): int(n) for pid, n in (await session.execute(stmt)).all()}
