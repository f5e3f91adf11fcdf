"""Rows of contract_api's tables, written straight to the database until its endpoints exist."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.models import Contract, Dispatch


async def contract(
    engine: AsyncEngine, county: str, *, status: str = "active", contractor_id: int = 7
) -> int:
    async with engine.begin() as conn:
        return int(
            (
                await conn.execute(
                    insert(Contract)
                    .values(
                        county_code=county,
                        contractor_id=contractor_id,
                        status=status,
                        start_date=date(2025, 1, 1),
                        end_date=date(2027, 12, 31),
                    )
                    .returning(Contract.id)
                )
            ).scalar_one()
        )


async def dispatch(
    engine: AsyncEngine,
    contract_id: int,
    person_id: int,
    region: str,
    *,
    level: str = "village",
    start: date = date(2025, 1, 1),
    end: date | None = None,
) -> int:
    async with engine.begin() as conn:
        return int(
            (
                await conn.execute(
                    insert(Dispatch)
                    .values(
                        contract_id=contract_id,
                        person_id=person_id,
                        posting_level=level,
                        region_code=region,
                        monthly_wage=Decimal("2850.00"),
                        start_date=start,
                        end_date=end,
                        end_reason=None if end is None else "resigned",
                        labor_contract_signed_on=start,
                    )
                    .returning(Dispatch.id)
                )
            ).scalar_one()
        )
