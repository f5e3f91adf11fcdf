"""Every query of allocations, expenditures and fund execution."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.common.models import Allocation, AllocationLine, Expenditure, Payment, Region
from services.common.pagination import PageParams, paginate
from services.common.regions import DIRECTLY_ADMINISTERED

# The unit a county-or-lower code counts towards: itself or its county when that is a unit; else its
# prefecture, unless its county is directly administered (those stand beside the prefectures, and
# their prefecture's figures exclude them).
_UNIT_OF = """CASE WHEN left({col}, 6) = ANY(:units) THEN left({col}, 6)
    WHEN left({col}, 6) = ANY(:direct) THEN NULL
    WHEN left({col}, 4) = ANY(:units) THEN left({col}, 4) END"""

_NEEDY = text(f"""
    SELECT unit, sum(coalesce(dibao_recipients, 0) + coalesce(tekun_recipients, 0)) AS value
    FROM (
        SELECT DISTINCT ON (region_code) region_code, dibao_recipients, tekun_recipients,
               {_UNIT_OF.format(col="region_code")} AS unit
        FROM region_stats
        WHERE length(region_code) = 6 AND (dibao_recipients IS NOT NULL OR tekun_recipients IS NOT NULL)
        ORDER BY region_code, month DESC
    ) latest
    WHERE unit IS NOT NULL GROUP BY unit""")  # noqa: S608 - a fixed expression, no input

_WORKLOAD = text(f"""
    SELECT unit, sum(quantity) AS value
    FROM (SELECT {_UNIT_OF.format(col="region_code")} AS unit, quantity FROM work_logs
          WHERE date >= :first AND date < :after) logs
    WHERE unit IS NOT NULL GROUP BY unit""")  # noqa: S608 - a fixed expression, no input

_PERFORMANCE = text(f"""
    SELECT unit, avg(total) AS value
    FROM (SELECT {_UNIT_OF.format(col="region_code")} AS unit, total FROM evaluations
          WHERE left(period, 4) = :year) scored
    WHERE unit IS NOT NULL GROUP BY unit""")  # noqa: S608 - a fixed expression, no input

# Spending against a published line and against the lines of its published re-allocation.
_EXECUTION = """
    SELECT l.id AS line_id, l.allocation_id, a.region_code AS allocating_region, l.region_code,
           l.amount, l.spent AS spent_directly,
           coalesce((SELECT sum(cl.spent) FROM allocations ca
                     JOIN allocation_lines cl ON cl.allocation_id = ca.id
                     WHERE ca.parent_line_id = l.id AND ca.status = 'published'), 0) AS spent_by_reallocation
    FROM allocation_lines l JOIN allocations a ON a.id = l.allocation_id
    WHERE a.status = 'published' AND a.year = :year AND {where}
    ORDER BY l.region_code, a.id"""

_FUND_USE = text(f"""
    SELECT region_code AS unit, sum(spent_directly + spent_by_reallocation) AS spent, sum(amount) AS allocated
    FROM ({_EXECUTION.format(where="l.region_code = ANY(:units)")}) lines
    GROUP BY region_code""")  # noqa: S608 - a fixed expression, no input


async def eligible_units(session: AsyncSession, allocating_region: str) -> list[str]:
    """The province: its prefectures and the directly administered counties. A prefecture: its counties
    except those."""
    if len(allocating_region) == 2:
        cond = or_(Region.level == "prefecture", Region.directly_administered)
    else:
        cond = and_(Region.parent_code == allocating_region, Region.level == "county")
        cond = and_(cond, ~Region.directly_administered)
    rows = await session.scalars(select(Region.code).where(cond).order_by(Region.code))
    return list(rows)


async def region_names(session: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    rows = await session.execute(select(Region.code, Region.name).where(Region.code.in_(codes)))
    return {code: name for code, name in rows}  # noqa: C416 - rows are Row objects


async def default_factors(
    session: AsyncSession, units: list[str], year: int
) -> dict[str, dict[str, Decimal]]:
    """contracts.md *Funds*: needy_population = latest dibao + tekun; workload = last year's work-log
    quantity; fund_use = last year's execution rate (capped at 1); performance = last year's mean
    evaluation total. A unit without data has 0."""
    values: dict[str, dict[str, Decimal]] = {
        u: dict.fromkeys(("needy_population", "workload", "fund_use", "performance"), Decimal(0))
        for u in units
    }
    scope: dict[str, Any] = {"units": units, "direct": sorted(DIRECTLY_ADMINISTERED)}
    last = year - 1
    for factor, stmt, params in (
        ("needy_population", _NEEDY, scope),
        ("workload", _WORKLOAD, {**scope, "first": date(last, 1, 1), "after": date(year, 1, 1)}),
        ("performance", _PERFORMANCE, {**scope, "year": str(last)}),
    ):
        for unit, value in await session.execute(stmt, params):
            values[unit][factor] = Decimal(value).quantize(Decimal("0.000001"))
    for unit, spent, allocated in await session.execute(_FUND_USE, {"units": units, "year": last}):
        if allocated > 0:
            rate = min(Decimal(1), Decimal(spent) / Decimal(allocated))
            values[unit]["fund_use"] = rate.quantize(Decimal("0.000001"))
    return values


async def add(session: AsyncSession, row: Allocation | AllocationLine | Expenditure) -> None:
    session.add(row)
    await session.flush()


async def allocation(session: AsyncSession, allocation_id: int, *, lock: bool = False) -> Allocation | None:
    return await session.get(Allocation, allocation_id, with_for_update=lock, populate_existing=True)


async def lines_of(session: AsyncSession, allocation_ids: Sequence[int]) -> Sequence[AllocationLine]:
    stmt = select(AllocationLine).where(AllocationLine.allocation_id.in_(allocation_ids))
    return (await session.scalars(stmt.order_by(AllocationLine.region_code))).all()


async def allocation_of_lines(session: AsyncSession, line_ids: Sequence[int]) -> dict[int, int]:
    """Line id → the allocation it belongs to (a re-allocation's parent)."""
    if not line_ids:
        return {}
    stmt = select(AllocationLine.id, AllocationLine.allocation_id).where(AllocationLine.id.in_(line_ids))
    return {line_id: allocation_id for line_id, allocation_id in await session.execute(stmt)}  # noqa: C416


async def line_for(session: AsyncSession, allocation_id: int, region_code: str) -> AllocationLine | None:
    stmt = select(AllocationLine).where(
        AllocationLine.allocation_id == allocation_id, AllocationLine.region_code == region_code
    )
    # Locked: two re-allocations of one line queue here, and the second finds the first.
    return await session.scalar(stmt.with_for_update())


async def line(session: AsyncSession, line_id: int) -> tuple[AllocationLine, Allocation] | None:
    stmt = (
        select(AllocationLine, Allocation)
        .join(Allocation, Allocation.id == AllocationLine.allocation_id)
        .where(AllocationLine.id == line_id)
    )
    found = (await session.execute(stmt)).first()
    if found is None:
        return None
    line_row, allocation_row = found
    return line_row, allocation_row


async def list_allocations(
    session: AsyncSession,
    params: PageParams,
    *,
    scope: str,
    region: str,
    year: int | None,
    status: str | None = None,
    public: bool,
) -> tuple[Sequence[Allocation], str | None]:
    """Published allocations are public; drafts and approved ones only for their level and above."""
    stmt = select(Allocation).where(Allocation.region_code.startswith(region, autoescape=True))
    visible = Allocation.status == "published"
    if not public:
        visible = or_(visible, Allocation.region_code.startswith(scope, autoescape=True))
    stmt = stmt.where(visible)
    if year is not None:
        stmt = stmt.where(Allocation.year == year)
    if status is not None:
        stmt = stmt.where(Allocation.status == status)
    return await paginate(session, stmt, Allocation.id, params)


async def published(session: AsyncSession, year: int | None) -> Sequence[Allocation]:
    stmt = select(Allocation).where(Allocation.status == "published").order_by(Allocation.id)
    if year is not None:
        stmt = stmt.where(Allocation.year == year)
    return (await session.scalars(stmt)).all()


async def reallocation_of(session: AsyncSession, line_id: int) -> Allocation | None:
    return await session.scalar(select(Allocation).where(Allocation.parent_line_id == line_id))


async def spend(session: AsyncSession, line_id: int, amount: Decimal) -> bool:
    """Raise the line's ``spent`` if the balance allows, in one statement: the row lock is taken here,
    the last write of the request, and PostgreSQL re-checks the condition on the row as it is after any
    concurrent spend commits — so two spends can never both pass on the same remaining balance."""
    stmt = (
        update(AllocationLine)
        .where(AllocationLine.id == line_id, AllocationLine.spent + amount <= AllocationLine.amount)
        .values(spent=AllocationLine.spent + amount)
        .returning(AllocationLine.id)
    )
    return (await session.execute(stmt)).first() is not None


async def payment(session: AsyncSession, payment_id: int) -> Payment | None:
    # Locked: two bookings of one payment queue here, and the second finds the first.
    return await session.get(Payment, payment_id, with_for_update=True)


async def booked(session: AsyncSession, payment_id: int) -> bool:
    stmt = select(Expenditure.id).where(Expenditure.payment_id == payment_id)
    return (await session.scalar(stmt)) is not None


async def list_expenditures(
    session: AsyncSession, params: PageParams, *, region: str, year: int | None, line_id: int | None
) -> tuple[Sequence[Expenditure], str | None]:
    stmt = select(Expenditure).where(Expenditure.region_code.startswith(region, autoescape=True))
    if year is not None:
        alloc = aliased(Allocation)
        stmt = stmt.join(AllocationLine, AllocationLine.id == Expenditure.allocation_line_id)
        stmt = stmt.join(alloc, alloc.id == AllocationLine.allocation_id)
        stmt = stmt.where(alloc.year == year)
    if line_id is not None:
        stmt = stmt.where(Expenditure.allocation_line_id == line_id)
    return await paginate(session, stmt, Expenditure.id, params)


async def execution(session: AsyncSession, region: str, year: int) -> list[Row[Any]]:
    """Every published line of ``year`` for a unit in ``region`` or below."""
    stmt = text(_EXECUTION.format(where="starts_with(l.region_code, :region)"))
    return list((await session.execute(stmt, {"year": year, "region": region})).all())


async def spent_total(session: AsyncSession, region: str, year: int) -> Decimal:
    stmt = (
        select(func.coalesce(func.sum(Expenditure.amount), 0))
        .join(AllocationLine, AllocationLine.id == Expenditure.allocation_line_id)
        .join(Allocation, Allocation.id == AllocationLine.allocation_id)
        .where(Expenditure.region_code.startswith(region, autoescape=True), Allocation.year == year)
    )
    return Decimal(await session.scalar(stmt) or 0)
