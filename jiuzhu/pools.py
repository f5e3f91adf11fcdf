"""How many database connections each process that `jiuzhu up` starts may keep open.

Each service worker, and the gateway, keeps a fixed pool of ``JIUZHU_DB_POOL_SIZE`` connections with
no overflow (services/common/database.py). At its busiest the stack therefore holds processes × pool
connections. If that is more than the server accepts, requests fail with "too many clients" just when
the load is highest, and not at start-up when someone is watching.

So `jiuzhu up` splits what the server allows evenly between its processes. It keeps a few connections
back for an operator's psql, a migration or a backup. A process never gets more than the setting asks
for. When the share would be below two, `jiuzhu up` refuses to start and says which knob to turn.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

HEADROOM = 5  # connections left for people and tools beside the stack
MIN_POOL = 2  # below this a worker's requests queue on one connection
# Slots PostgreSQL keeps back; ``reserved_connections`` exists from PostgreSQL 16.
_LIMITS = text(
    "SELECT name, setting::int FROM pg_settings "
    "WHERE name IN ('max_connections', 'superuser_reserved_connections', 'reserved_connections')"
)


async def allowed_connections(conn: AsyncConnection) -> int:
    """Connections the server accepts from a user without reserved slots."""
    limits = {name: int(value) for name, value in (await conn.execute(_LIMITS)).all()}
    reserved = limits.get("superuser_reserved_connections", 0) + limits.get("reserved_connections", 0)
    return limits["max_connections"] - reserved


def pool_share(allowed: int, processes: int, wanted: int) -> int:
    """Connections per process: ``wanted``, or less so that every process fits within ``allowed``."""
    return min(wanted, max(0, allowed - HEADROOM) // max(1, processes))


def too_few(share: int, processes: int, allowed: int) -> str:
    return (
        f"jiuzhu up: {processes} processes would get {share} database connection(s) each; the server "
        f"allows {allowed} (max_connections less its reserved slots). Lower --workers or --replicas, "
        f"or raise max_connections."
    )
