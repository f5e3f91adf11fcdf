"""The transaction the shared layer begins and ends itself on the driver connection (``transaction.py``):
whatever a request does — answers, fails with a 4xx or a 500, loses its backend — its connection goes
back to the pool outside any transaction and nothing of a failed request stays written; an error from a
statement run on the driver connection (``database.Statement``) is described like any other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import asyncpg
import httpx
import pytest
from fastapi import Depends
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.app import create_service_app, router
from services.common.auth.deps import require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.database import driver
from services.common.errors import invalid
from services.common.models import AuditEvent, IdempotencyKey, Region
from services.common.settings import Settings
from services.common.transaction import Session
from tests.conftest import Tokens

probe = router(prefix="/probe")
County = Annotated[Principal, Depends(require("county_official"))]
VILLAGE = "530102001960"
DSN: dict[str, str] = {}  # the test database, for the probe that ends its own backend


def _add_region(session: Session) -> None:
    session.add(
        Region(code=VILLAGE, name="不应留下", level="village", kind="village", parent_code="530102001")
    )


def _queue_change(session: Session, principal: Principal, **data: str) -> None:
    record_change(
        session, principal, action="probed", resource="probe", resource_id="1", region="530102", data=data
    )


@probe.get("/state")
async def state(session: Session, principal: County) -> dict[str, object]:
    """What the one pooled connection looks like to the next request."""
    conn = await driver(session)
    return {"in_transaction": conn.is_in_transaction(), "pid": await conn.fetchval("SELECT pg_backend_pid()")}


@probe.post("/fails")
async def fails(session: Session, principal: County, status: int = 500) -> dict[str, str]:
    _add_region(session)
    await session.flush()
    _queue_change(session, principal)
    if status == 422:
        raise invalid("PROBE_REFUSED", "探针拒绝", "The probe refuses")
    raise RuntimeError("after a write")


@probe.post("/ok")
async def ok(session: Session, principal: County) -> dict[str, str]:
    _add_region(session)
    await session.flush()
    _queue_change(session, principal)
    xid = (await session.execute(text("SELECT pg_current_xact_id()::text"))).scalar_one()
    return {"xid": xid}


@probe.post("/driver-first")
async def driver_first(session: Session, principal: County) -> dict[str, str]:
    """The other order: a statement on the driver connection first, then the ORM joins it."""
    xid = await (await driver(session)).fetchval("SELECT pg_current_xact_id()::text")
    _add_region(session)
    await session.flush()
    _queue_change(session, principal)
    return {"xid": str(xid)}


@probe.post("/nul")
async def nul(session: Session, principal: County) -> dict[str, str]:
    """A change whose event data PostgreSQL's jsonb cannot hold (U+0000): the audit rows and events
    are written on the driver connection, and the error is the client's value."""
    _queue_change(session, principal, note="a\u0000b")
    return {}


@probe.post("/lose-backend")
async def lose_backend(session: Session, principal: County) -> dict[str, str]:
    """The request's backend ends while its transaction is open, and the request then fails."""
    _add_region(session)
    await session.flush()
    pid = await (await driver(session)).fetchval("SELECT pg_backend_pid()")
    killer = await asyncpg.connect(DSN["dsn"])
    try:
        await killer.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await killer.close()
    raise RuntimeError("after losing the backend")


@pytest.fixture
async def client(settings: Settings, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    DSN["dsn"] = db_url.replace("postgresql+asyncpg://", "postgresql://")
    app = create_service_app(
        name="probe",
        title="probe",
        description="probe",
        routers=[probe],
        settings=settings.model_copy(update={"db_pool_size": 1}),  # every request on the same connection
        database_url=db_url,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe.test") as c,
    ):
        yield c


async def _nothing_left(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).where(Region.code == VILLAGE))).scalar_one() == 0
        probes = select(func.count()).where(AuditEvent.resource == "probe")
        assert (await conn.execute(probes)).scalar_one() == 0


async def _state(client: httpx.AsyncClient, tokens: Tokens) -> dict[str, object]:
    r = await client.get("/probe/state", headers=tokens.headers("county_official", "530102"))
    assert r.status_code == 200, r.text
    state: dict[str, object] = r.json()
    return state


@pytest.mark.parametrize("status", [500, 422])
@pytest.mark.parametrize("keyed", [False, True])
async def test_a_failed_write_leaves_nothing_and_no_open_transaction(
    client: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine, status: int, keyed: bool
) -> None:
    before = await _state(client, tokens)
    h = tokens.headers("county_official", "530102")
    if keyed:
        h["Idempotency-Key"] = f"fails-{status}"
    r = await client.post("/probe/fails", params={"status": status}, headers=h)
    assert r.status_code == status
    await _nothing_left(engine)
    after = await _state(client, tokens)
    assert after == {"in_transaction": False, "pid": before["pid"]}  # the same connection, clean
    async with engine.connect() as conn:
        stored = select(IdempotencyKey.response_status).where(IdempotencyKey.key == f"fails-{status}")
        kept = (await conn.execute(stored)).scalars().all()
    # A 4xx under a key is stored (in a transaction of its own); a 500 releases the key.
    assert kept == ([status] if keyed and status < 500 else [])


@pytest.mark.parametrize("keyed", [False, True])
async def test_a_value_the_driver_statement_refuses_is_a_422(
    client: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine, keyed: bool
) -> None:
    h = tokens.headers("county_official", "530102")
    if keyed:
        h["Idempotency-Key"] = "nul"
    r = await client.post("/probe/nul", headers=h)
    assert (r.status_code, r.json()["code"]) == (422, "INVALID_VALUE"), r.text
    assert "u0000" not in r.text and "jsonb" not in r.text.lower()
    await _nothing_left(engine)
    assert (await _state(client, tokens))["in_transaction"] is False


async def test_a_connection_whose_backend_died_is_not_reused(
    client: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    before = await _state(client, tokens)
    r = await client.post("/probe/lose-backend", headers=tokens.headers("county_official", "530102"))
    assert (r.status_code, r.json()["code"]) == (500, "INTERNAL_ERROR")
    await _nothing_left(engine)
    after = await _state(client, tokens)  # a new connection: the dead one was discarded
    assert after["in_transaction"] is False and after["pid"] != before["pid"]


@pytest.mark.parametrize("first", ["ok", "driver-first"])
async def test_a_write_is_one_transaction_begun_by_the_shared_layer(
    client: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine, first: str
) -> None:
    """The control: the ORM's row, a statement of the route and the audit row and event written on
    the driver connection share one transaction (with the driver in autocommit, each would otherwise
    commit alone), and it commits — whichever of the ORM and the driver connection runs first. The
    pool holds one connection: a request that took a second would wait for it until it timed out."""
    r = await client.post(f"/probe/{first}", headers=tokens.headers("county_official", "530102"))
    assert r.status_code == 200, r.text
    async with engine.connect() as conn:
        region = (await conn.execute(select(text("xmin::text")).where(Region.code == VILLAGE))).scalar()
        audit = (
            await conn.execute(select(text("xmin::text")).where(AuditEvent.resource == "probe"))
        ).scalar()
    assert region == audit == r.json()["xid"]
    assert (await _state(client, tokens))["in_transaction"] is False
