"""Rows of contract_api's tables, written straight to the database until its endpoints exist."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import insert, text
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common.models import Contract, Contractor, Dispatch
from services.common.uscc import compose


async def _contractor(conn: AsyncConnection, contractor_id: int, county: str) -> None:
    """The contractor a factory contract names (contracts.contractor_id is a foreign key), with the id
    the test's tokens use; the identity sequence is moved past it so API-made contractors never clash."""
    row = {
        "id": contractor_id,
        "name": f"测试承接主体 {contractor_id}",
        "uscc": compose("52", county, f"{contractor_id:08d}"),
        "org_type": "social_organization",
        "registration_authority": "civil_affairs",
        "registered_on": date(2020, 1, 1),
        "employees": 10,
        "social_insurance_enrollees": 10,
        "region_code": county,
    }
    await conn.execute(upsert(Contractor).values(**row).on_conflict_do_nothing())
    await conn.execute(
        text("SELECT setval(pg_get_serial_sequence('contractors', 'id'), (SELECT max(id) FROM contractors))")
    )


async def contract(
    engine: AsyncEngine, county: str, *, status: str = "active", contractor_id: int = 7
) -> int:
    async with engine.begin() as conn:
        await _contractor(conn, contractor_id, county)
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
                        signed_on=None if status in ("draft", "authorized") else date(2024, 12, 20),
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
