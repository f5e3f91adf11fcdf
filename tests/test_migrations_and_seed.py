"""Migrations never drift from the models and run both ways; the seed is complete and idempotent."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.common.health import alembic_config
from services.common.models import Region, RegionStats
from services.staffing_api.seed import demo_stats, load_divisions, seed
from tests.conftest import PgServer


async def test_models_and_migrations_do_not_drift(db_url: str) -> None:
    # `alembic check` raises when autogenerate would write anything.
    await asyncio.to_thread(command.check, alembic_config(db_url))


async def test_downgrade_and_upgrade_again(pg: PgServer) -> None:
    admin = create_async_engine(pg.admin_url(), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.exec_driver_sql("CREATE DATABASE jz_roundtrip")
    await admin.dispose()
    cfg = alembic_config(pg.url("jz_roundtrip"))
    await asyncio.to_thread(command.upgrade, cfg, "head")
    await asyncio.to_thread(command.downgrade, cfg, "base")
    await asyncio.to_thread(command.upgrade, cfg, "head")
    engine = create_async_engine(pg.url("jz_roundtrip"))
    async with engine.connect() as conn:
        # The counter row went with revision 0004: event ids come from transaction ids now.
        assert (await conn.execute(text("SELECT to_regclass('event_counter')"))).scalar_one() is None
        assert (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one() == 0
    await engine.dispose()


async def test_seed_counts_and_flags(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        counts = dict((await conn.execute(select(Region.level, func.count()).group_by(Region.level))).all())
        direct = set((await conn.execute(select(Region.code).where(Region.directly_administered))).scalars())
        stats_demo = (await conn.execute(select(func.bool_and(RegionStats.demo)))).scalar_one()
        by_level = dict(
            (
                await conn.execute(
                    select(Region.level, func.count())
                    .join(RegionStats, RegionStats.region_code == Region.code)
                    .group_by(Region.level)
                )
            ).all()
        )
    assert counts == {"province": 1, "prefecture": 16, "county": 129, "township": 1461, "village": 14888}
    assert direct == {"530627", "530381", "530581"}
    assert stats_demo is True
    assert by_level == {"county": 129, "township": 1461, "village": 14888}


async def test_seed_is_idempotent(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        report = await seed(conn)
    assert (report.regions_added, report.stats_added) == (0, 0)


def test_demo_stats_deterministic_and_plausible() -> None:
    regions = load_divisions()
    first, second = demo_stats(regions), demo_stats(regions)
    assert first == second
    county = [s["dibao_recipients"] for s in first if len(str(s["region_code"])) == 6]
    village = [s["population"] for s in first if len(str(s["region_code"])) == 12]
    assert any(int(str(d)) > 30_000 for d in county) and any(int(str(d)) <= 30_000 for d in county)
    assert any(int(str(p)) >= 10_000 for p in village) and any(int(str(p)) < 5_000 for p in village)


async def test_seeding_an_empty_database_twice(db_url: str) -> None:
    engine = create_async_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM region_stats"))
        await conn.execute(text("DELETE FROM regions"))
    async with engine.begin() as conn:
        first = await seed(conn)
    async with engine.begin() as conn:
        second = await seed(conn)
    await engine.dispose()
    assert (first.regions_added, first.stats_added) == (16495, 16478)
    assert (second.regions_added, second.stats_added) == (0, 0)
