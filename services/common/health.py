"""Readiness: the database answers and its schema is at the migrations' head."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@lru_cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def database_problems(engine: AsyncEngine) -> list[str]:
    """Empty when ready; otherwise what is wrong, in words safe to show (no hostnames, no SQL)."""
    try:
        async with engine.connect() as conn:
            current = (
                await conn.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
    except Exception:
        return ["database unreachable or not migrated"]
    if current != head_revision():
        return ["database schema is not at the migrations' head"]
    return []


def migrate(url: str) -> None:
    """Upgrade the database at ``url`` to the newest migration."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")
