"""Every query of the region domain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth.deps import scope_filter
from services.common.auth.tokens import Principal
from services.common.changes import FLUSH_TYPES, flush_ctes, take_pending
from services.common.database import Statement, driver
from services.common.models import Establishment, Region, RegionStats
from services.common.pagination import PageParams, paginate


async def get(session: AsyncSession, code: str) -> Region | None:
    return await session.get(Region, code)


async def exists(session: AsyncSession, code: str) -> bool:
    return (await session.execute(select(Region.code).where(Region.code == code))).first() is not None


_NEW_REGION = ("code", "name", "level", "kind", "parent_code", "directly_administered")
# Built once (building a statement costs a write as much CPU as running it): the row is inserted
# when its code is free and its parent exists, and the audit row and event queued for it go in with
# it — or nothing at all is written. One statement, the request's only write (``single_write``), run on
# the driver connection (``database.Statement``): it is the whole of a new region's work.
_CREATE = Statement(
    text(
        f"""
    WITH ins AS (
        INSERT INTO regions ({", ".join(_NEW_REGION)})
        SELECT :code, :name, :level, :kind, :parent_code, :directly_administered
        WHERE :parent_code IS NULL OR EXISTS (SELECT FROM regions WHERE code = :parent_code)
        ON CONFLICT (code) DO NOTHING
        RETURNING code
    ), {flush_ctes(after="ins")}
    SELECT code FROM ins
    """  # noqa: S608 - fixed SQL: the module's column names and the feed's own CTEs, never input
    ).bindparams(*(bindparam(c, type_=Region.__table__.c[c].type) for c in _NEW_REGION), *FLUSH_TYPES)
)


async def create(session: AsyncSession, region: dict[str, Any]) -> bool:
    """Insert the region with the changes queued for it (``record_change`` first); False when its
    code was taken or its parent is missing — nothing written — and the caller asks which."""
    values = {c: region[c] for c in _NEW_REGION} | take_pending(session)
    return await _CREATE.fetchrow(await driver(session), values) is not None


async def levels(session: AsyncSession, codes: Iterable[str], principal: Principal) -> dict[str, str]:
    """Level of each code that exists inside the caller's scope (others are simply absent)."""
    stmt = select(Region.code, Region.level).where(
        Region.code.in_(set(codes)), scope_filter(Region.code, principal)
    )
    return {row.code: row.level for row in await session.execute(stmt)}


async def list_regions(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    region: str | None,
    parent: str | None,
    level: str | None,
    q: str | None,
) -> tuple[Sequence[Region], str | None]:
    stmt = select(Region).where(scope_filter(Region.code, principal))
    if region is not None:
        stmt = stmt.where(Region.code.startswith(region, autoescape=True))
    if parent is not None:
        stmt = stmt.where(Region.parent_code == parent)
    if level is not None:
        stmt = stmt.where(Region.level == level)
    if q:
        stmt = stmt.where(Region.name.contains(q, autoescape=True))
    return await paginate(session, stmt, Region.code, params)


async def get_stats(session: AsyncSession, code: str, month: date) -> RegionStats | None:
    return await session.get(RegionStats, (code, month), populate_existing=True)


async def list_stats(
    session: AsyncSession, code: str, start: date | None, end: date | None
) -> Sequence[RegionStats]:
    stmt = select(RegionStats).where(RegionStats.region_code == code)
    if start is not None:
        stmt = stmt.where(RegionStats.month >= start)
    if end is not None:
        stmt = stmt.where(RegionStats.month <= end)
    return (await session.execute(stmt.order_by(RegionStats.month))).scalars().all()


async def month_of_units(
    session: AsyncSession, params: PageParams, *, region: str, length: int, month: date
) -> tuple[Sequence[RegionStats], str | None]:
    stmt = select(RegionStats).where(
        RegionStats.month == month,
        RegionStats.region_code.startswith(region, autoescape=True),
        func.length(RegionStats.region_code) == length,
    )
    return await paginate(session, stmt, RegionStats.region_code, params)


async def upsert_stats(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace whole months (a later PUT of the same month replaces it); bumps the version."""
    if not rows:
        return
    stmt = insert(RegionStats)  # executed with a list of rows: compiled once, cached (see work/store.py)
    stmt = stmt.on_conflict_do_update(
        index_elements=[RegionStats.region_code, RegionStats.month],
        set_={
            "dibao_recipients": stmt.excluded.dibao_recipients,
            "tekun_recipients": stmt.excluded.tekun_recipients,
            "population": stmt.excluded.population,
            "demo": False,
            "version": RegionStats.version + 1,
            "updated_at": func.now(),
        },
    )
    await session.execute(stmt, list(rows))


async def get_establishment(session: AsyncSession, code: str) -> Establishment | None:
    return await session.get(Establishment, code, populate_existing=True)


async def upsert_establishment(session: AsyncSession, code: str, posts: int) -> None:
    stmt = insert(Establishment).values(region_code=code, authorized_posts=posts)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Establishment.region_code],
        set_={"authorized_posts": posts, "version": Establishment.version + 1, "updated_at": func.now()},
    )
    await session.execute(stmt)


async def names(session: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    rows = await session.execute(select(Region.code, Region.name).where(Region.code.in_(codes)))
    return {row.code: row.name for row in rows}
