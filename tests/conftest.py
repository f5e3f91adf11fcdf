"""Test harness: one real PostgreSQL (embedded) per run — per worker under `make test`, which runs
pytest-xdist — a migrated and seeded template database, and a fresh copy of it for every test that
touches the database (commits stay real)."""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.app import create_app as create_gateway
from services.common.auth.keys import KeyStore
from services.common.auth.tokens import mint
from services.common.database import async_url, start_embedded, stop_embedded
from services.common.health import migrate
from services.common.months import BUSINESS_TZ, business_today
from services.common.settings import Settings
from services.contract_api.app import create_app as create_contract
from services.penalty_api.app import create_app as create_penalty
from services.staffing_api.app import create_app as create_staffing
from services.staffing_api.seed import seed

TEMPLATE = "jz_template"
_counter = itertools.count()


@dataclass
class PgServer:
    server: Any

    def url(self, database: str) -> str:
        return async_url(self.server.get_uri(), database)

    def admin_url(self) -> str:
        return self.url("postgres")


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    # A short path: PostgreSQL's Unix socket path must stay under ~100 bytes.
    root = Path(tempfile.mkdtemp(prefix="jzt-", dir="/tmp"))
    server = start_embedded(root / "pg", stop_on_exit=True)
    # No fsync on this throw-away cluster: each copy of the template (CREATE DATABASE) checkpoints,
    # and the fsyncs were half its cost (0.52 → 0.26 s a copy, ~900 copies a run). Commits still
    # reach the kernel before they are acknowledged, so a PostgreSQL killed outright loses nothing;
    # only the machine itself crashing could. The tests that kill a database run their own cluster.
    server.psql("ALTER SYSTEM SET fsync = off;")
    server.psql("SELECT pg_reload_conf();")
    yield PgServer(server)
    # An immediate stop: the cluster is thrown away, so its shutdown checkpoint (flushing every copy
    # the run made) only cost time — 40 s at the end of the suite.
    stop_embedded(server, "immediate")
    server.cleanup()
    # A run leaves nothing behind in /tmp, but removing a cluster of ~900 database copies (a few
    # hundred thousand files) took the suite's last 30 s: a detached `rm` finishes it after pytest.
    subprocess.Popen(["rm", "-rf", str(root)], start_new_session=True)  # noqa: S603, S607


@pytest.fixture(scope="session")
async def template_db(pg: PgServer) -> str:
    """Migrated to head and seeded once; every test database is cloned from it."""
    admin = create_async_engine(pg.admin_url(), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
        await conn.exec_driver_sql(f'CREATE DATABASE "{TEMPLATE}"')
    await admin.dispose()
    url = pg.url(TEMPLATE)
    await asyncio.to_thread(migrate, url)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await seed(conn)
    await engine.dispose()
    return TEMPLATE


class Copies:
    """The next test's copy of the template is made while the current test runs, on a thread of its
    own, over one kept connection: a copy is PostgreSQL's work (~0.15 s; a new engine for each had
    added ~0.1 s), a test mostly Python's, and there are two cores."""

    def __init__(self, pg: PgServer, template: str) -> None:
        self.pg, self.template = pg, template
        self.loop = asyncio.new_event_loop()  # the maker thread's own, it is the only user
        self.conn: asyncpg.Connection | None = None
        self.maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-copy")
        self.resume()

    def _make(self) -> str:
        return self.loop.run_until_complete(self._copy())

    async def _copy(self) -> str:
        if self.conn is None:
            self.conn = await asyncpg.connect(self.pg.server.get_uri("postgres"))
        name = f"jzt_{os.getpid()}_{next(_counter)}"
        await self.conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}" STRATEGY FILE_COPY')
        return self.pg.url(name)

    def take(self, *, ahead: bool = True) -> str:
        """A copy; the next one starts at once, or (``ahead=False``) only at ``resume``."""
        url = self.ready.result()
        if ahead:
            self.resume()
        return url

    def resume(self) -> None:
        self.ready = self.maker.submit(self._make)

    def close(self) -> None:
        self.ready.result()
        if self.conn is not None:
            self.maker.submit(self.loop.run_until_complete, self.conn.close()).result()
        self.maker.shutdown(wait=True)
        self.loop.close()


@pytest.fixture(scope="session")
def copies(pg: PgServer, template_db: str) -> Iterator[Copies]:
    made = Copies(pg, template_db)
    yield made
    made.close()


@pytest.fixture
def db_url(copies: Copies, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh copy of the template. Copies are not dropped one by one (each DROP DATABASE forces a
    checkpoint: it doubled the suite's time); the whole cluster directory goes at the session's end,
    so a run needs ~8 GB of /tmp at its peak and leaves nothing behind.

    A test marked ``reads_feed`` runs with no copy in flight: a copy is a transaction, and the change
    feed serves only what lies below the cluster's oldest transaction still in flight, in any database
    (services/common/changes.py), so a copy running beside it would hold the test's events back."""
    quiet = request.node.get_closest_marker("reads_feed") is not None
    yield copies.take(ahead=not quiet)
    if quiet:
        copies.resume()


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_async_engine(db_url)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="jzt-data-", dir="/tmp"))
    KeyStore(path / "keys").ensure()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=None,
        upstream_staffing="http://staffing.test",
        upstream_contract="http://contract.test",
        upstream_penalty="http://penalty.test",
        upstream_timeout=1.0,
        revocation_cache_seconds=0.0,
        # Limits are tested on their own; elsewhere they would only make tests order-dependent.
        rate_per_sub=10_000.0,
        burst_per_sub=10_000,
        public_rate=10_000.0,
        public_burst=10_000,
        signin_rate=10_000.0,
        signin_burst=10_000,
        cors_origins=["https://portal.example.gov.cn"],
    )


class FakeClock:
    """The gateway's clock (sign-in lockout window), moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> Any:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# No test runs this long, so none that starts outside this margin meets Yunnan's midnight.
MIDNIGHT_MARGIN = timedelta(minutes=5)


@pytest.fixture(autouse=True)
def _clear_of_midnight() -> None:
    """The services judge a date by Yunnan's calendar day when the request arrives (the notice's
    days are local days), and a test by the day when it computed one. A test begun just before Yunnan's
    midnight (16:00 UTC) sent a "tomorrow" that had become today and was accepted: CI failed so on
    2026-12-03, with the day taken at import. So every test takes the day when it needs it
    (`business_day()`), and none starts in the last minutes of one: it waits for the next."""
    time.sleep(wait_for_midnight(datetime.now(UTC)))


def wait_for_midnight(now: datetime) -> float:
    """Seconds until a second past Yunnan's next midnight when that is less than the margin away,
    else none."""
    midnight = datetime.combine(business_today(now) + timedelta(days=1), datetime.min.time(), BUSINESS_TZ)
    left = midnight - now
    return left.total_seconds() + 1 if left < MIDNIGHT_MARGIN else 0.0


def business_day() -> date:
    """Today in Yunnan, as the services see it while this test runs."""
    return business_today(datetime.now(UTC))


def days_from_today(change: dict[str, Any]) -> dict[str, Any]:
    """A request body written for any day: each `timedelta` becomes that date relative to today, so
    parametrize lists (built at import) can name "tomorrow" without fixing the day."""
    today = business_day()
    return {k: str(today + v) if isinstance(v, timedelta) else v for k, v in change.items()}


class Tokens:
    """Real tokens signed with the test deployment's key."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = KeyStore(settings.keys_dir)

    def __call__(self, role: str, region: str, **kw: Any) -> str:
        return mint(self.settings, self.store, role=role, region=region, **kw)

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base: dict[str, Any] = {
            "iss": "jiuzhu",
            "aud": "jiuzhu-api",
            "sub": "tester",
            "iat": now,
            "exp": now + 600,
            "jti": f"j{next(_counter)}",
            "role": "province_admin",
            "region": "53",
        }
        base.update(overrides)
        return {k: v for k, v in base.items() if v is not None}

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        kid, key = self.store.signing_key()
        return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid, **(headers or {})})

    def headers(self, role: str = "province_admin", region: str = "53", **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self(role, region, **kw)}"}


@pytest.fixture
def tokens(settings: Settings) -> Tokens:
    return Tokens(settings)


@dataclass
class Stack:
    """The three services and the gateway in-process, wired by ASGI transports (no sockets)."""

    gateway: httpx.AsyncClient
    direct: dict[str, httpx.AsyncClient]
    db_url: str
    app: Any

    def client(self, target: str) -> httpx.AsyncClient:
        return self.gateway if target == "gateway" else self.direct["staffing"]


@pytest.fixture
async def stack(settings: Settings, db_url: str, clock: FakeClock) -> AsyncIterator[Stack]:
    apps = {
        "staffing": create_staffing(settings, db_url),
        "contract": create_contract(settings, db_url),
        "penalty": create_penalty(settings, db_url),
    }
    mounts = {
        f"http://{name}.test": httpx.ASGITransport(app=app, raise_app_exceptions=False)
        for name, app in apps.items()
    }
    gw = create_gateway(settings, db_url, mounts, clock)
    async with AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        ops = gw.gateway.ops  # type: ignore[attr-defined]
        await stack.enter_async_context(ops.router.lifespan_context(ops))
        gateway = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=gw, raise_app_exceptions=False),
                base_url="http://gateway.test",
            )
        )
        # contract_api settles payments with penalty_api over HTTP: here, in-process.
        apps["contract"].state.penalty_client = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=apps["penalty"], raise_app_exceptions=False),
                base_url="http://penalty.test",
            )
        )
        direct = {
            name: await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                    base_url=f"http://{name}.test",
                )
            )
            for name, app in apps.items()
        }
        yield Stack(gateway=gateway, direct=direct, db_url=db_url, app=gw)


# Tests of who may do what and who sees what (roles, region scope, tokens) run through the gateway and
# straight against the service: every service checks the token and the scope again itself, and both
# must answer the same. The rest — the rules behind the door — run through the gateway only, the
# whole path, once: running them twice doubled the suite's time and tested nothing more.
BOTH_TARGETS = re.compile(
    r"who|role|scope|token|auth|forbid|sees|outside|own|visible|service_account|claims|issuer"
)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """An xdist worker told to exit has 5 s before execnet interrupts it, and twice it was
    interrupted inside a garbage-collection callback (a KeyboardInterrupt printed at the end of a
    green run): the interpreter's last collection over a heap of ~600 MB, by the look of it. Frozen
    objects are skipped by that collection, and nothing left matters; three runs since ended clean."""
    gc.freeze()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" not in metafunc.fixturenames:
        return
    if any("target" in m.args[0] for m in metafunc.definition.iter_markers("parametrize")):
        return  # the test names its targets itself
    both = BOTH_TARGETS.search(metafunc.definition.nodeid) or metafunc.definition.get_closest_marker(
        "both_targets"
    )
    metafunc.parametrize("target", ["gateway", "direct"] if both else ["gateway"], indirect=True)


@pytest.fixture
def target(request: pytest.FixtureRequest) -> str:
    """``gateway`` or ``direct`` (see ``pytest_generate_tests``)."""
    return str(request.param)


@pytest.fixture
def api(stack: Stack, target: str) -> httpx.AsyncClient:
    return stack.client(target)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def live_staffing(db_url: str, data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """staffing_api as `jiuzhu up` runs it: a real uvicorn with two worker processes on this test's
    database, so concurrent requests really run in parallel (processes, connections, commits)."""
    import signal
    import subprocess
    import sys

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIUZHU_") and k != "DATABASE_URL"}
    env.update(
        {"DATABASE_URL": db_url, "JIUZHU_DATA_DIR": str(data_dir), "JIUZHU_REVOCATION_CACHE_SECONDS": "0"}
    )
    proc = subprocess.Popen(  # noqa: S603, ASYNC220 - our own interpreter and module; returns at once
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "services.staffing_api.app:create_app",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
            # Longer than any pause of a loaded test machine: a server closing an idle kept-alive
            # connection just as the client reuses it is a ReadError no retry covers (POST).
            "--timeout-keep-alive",
            "120",
        ],
        env=env,
        start_new_session=True,  # its own process group: the workers go down with it
    )
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=128, max_keepalive_connections=128)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, "staffing_api exited"
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "staffing_api not ready"
                await asyncio.sleep(0.2)
            yield client
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


async def until_waiting_on_a_lock(engine: AsyncEngine, statement: str, seconds: float = 5.0) -> None:
    """Return once a backend of the test database is waiting on a lock in a statement starting with
    ``statement`` (``pg_stat_activity``); an AssertionError if none does within ``seconds``. Each look
    is a transaction of its own: inside one, PostgreSQL answers every look from the first one's
    snapshot of the statistics."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND ltrim(query) LIKE :q"
    ).bindparams(q=f"{statement}%")
    async with engine.connect() as conn:
        for _ in range(int(seconds / 0.01)):
            found = (await conn.execute(waiting)).scalar_one()
            await conn.rollback()
            if found:
                return
            await asyncio.sleep(0.01)
    raise AssertionError(f"no statement {statement!r} waited on a lock")
