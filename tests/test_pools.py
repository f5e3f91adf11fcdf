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


def test_the_defaults_fit_postgresqls_default_server(tmp_path: Path) -> None:
    """100 connections, 3 of them reserved: the most workers the defaults start get 2 or more each."""
    processes = (SERVICES + 1) * default_workers(64)  # the gateway's workers too
    share = pool_share(97, processes, Settings(data_dir=tmp_path).db_pool_size)
    assert share >= MIN_POOL and share * processes <= 97 - HEADROOM


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
