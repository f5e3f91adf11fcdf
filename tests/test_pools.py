"""`jiuzhu up` fits every process's connection pool within what the server accepts (jiuzhu/pools.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from jiuzhu.pools import HEADROOM, MIN_POOL, allowed_connections, pool_share
from services.common.settings import Settings, default_workers

SERVICES = 3


@pytest.mark.parametrize(
    ("allowed", "processes", "wanted", "share"),
    [
        (HEADROOM + 7 * 8, 7, 8, 8),  # exactly fits: each gets what it asks for
        (HEADROOM + 7 * 8 - 1, 7, 8, 7),  # one short: each gets one fewer
        (HEADROOM + 7 * 8 + 6, 7, 8, 8),  # room to spare: never more than asked
        (97, 16, 8, 5),  # 4 workers a service and the gateway, PostgreSQL's defaults (100, 3 reserved)
        (97, 200, 8, 0),  # 8 replicas of 8 workers, and 8 gateway workers: nothing left
        (HEADROOM, 1, 8, 0),
        (HEADROOM - 1, 1, 8, 0),  # a server smaller than the headroom
    ],
)
def test_pool_share(allowed: int, processes: int, wanted: int, share: int) -> None:
    assert pool_share(allowed, processes, wanted) == share


def test_the_most_workers_the_defaults_start_still_get_a_pool(tmp_path: Path) -> None:
    """PostgreSQL's default server (100, 3 reserved) and 4 workers for each service and the gateway:
    5 connections each, the figure the README gives, and never below the minimum."""
    processes = (SERVICES + 1) * default_workers(64)
    share = pool_share(97, processes, Settings(data_dir=tmp_path).db_pool_size)
    assert (processes, share) == (16, 5) and share >= MIN_POOL


def test_a_small_stack_keeps_the_pool_it_asks_for(tmp_path: Path) -> None:
    wanted = Settings(data_dir=tmp_path).db_pool_size
    assert wanted == 8  # the README's figure
    assert pool_share(97, (SERVICES + 1) * 2, wanted) == wanted  # two cores: 8 processes


async def test_allowed_connections_leave_out_the_reserved_slots(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        shown = {
            name: int((await conn.execute(text(f"SHOW {name}"))).scalar_one())
            for name in ("max_connections", "superuser_reserved_connections", "reserved_connections")
        }
        allowed = await allowed_connections(conn)
    reserved = shown["superuser_reserved_connections"] + shown["reserved_connections"]
    assert allowed == shown["max_connections"] - reserved
    assert 0 < allowed < shown["max_connections"]


def test_up_refuses_more_processes_than_the_server_accepts(db_url: str, tmp_path: Path) -> None:
    """Refused before anything is migrated or started, with what to change."""
    env = {"JIUZHU_DATA_DIR": str(tmp_path), "DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "jiuzhu.cli", "up", "--port", "1", "--workers", "8", "--replicas", "8"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 1
    assert "200 processes would get 0 database connection(s) each" in done.stderr
    assert "--workers or --replicas" in done.stderr
    assert "Jiuzhu gateway" not in done.stdout  # nothing was started
