"""``single_write``: a request whose one write is its last statement runs each statement as its own
transaction (no BEGIN/COMMIT round trips), stays in its transaction under an Idempotency-Key, and
refuses what would commit apart from the rest: an ORM write, or changes left for ``flush_events``.
A read (GET) runs the same way, and a read that writes is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import Depends
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.app import create_service_app, router
from services.common.auth.deps import require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.models import AuditEvent, Region
from services.common.settings import Settings
from services.common.transaction import Session, single_write
from tests.conftest import Tokens

probe = router(prefix="/probe")
VILLAGE = "530102001970"  # a valid new village: only the guard keeps it out
County = Annotated[Principal, Depends(require("county_official"))]


@probe.post("/xids")
async def xids(session: Session, principal: County, alone: bool = True) -> dict[str, object]:
    """The transaction id of two statements in a row, after ``single_write`` when ``alone``."""
    declared = await single_write(session) if alone else False
    ids = [(await session.execute(text("SELECT pg_current_xact_id()::text"))).scalar_one() for _ in range(2)]
    return {"alone": declared, "ids": ids}


@probe.get("/xids")
async def read_xids(session: Session, principal: County) -> dict[str, object]:
    """A read: the transaction ids two statements in a row are given (each forces one)."""
    ids = [(await session.execute(text("SELECT pg_current_xact_id()::text"))).scalar_one() for _ in range(2)]
    return {"ids": ids}


async def _write_a_region(session: Session) -> dict[str, str]:
    session.add(
        Region(code=VILLAGE, name="不应写入", level="village", kind="village", parent_code="530102001")
    )
    await session.flush()
    return {}


def _queue_a_change(session: Session, principal: Principal) -> dict[str, str]:
    record_change(
        session, principal, action="probed", resource="probe", resource_id="1", region="530102", data={}
    )
    return {}


@probe.get("/orm")
async def read_that_writes(session: Session, principal: County) -> dict[str, str]:
    return await _write_a_region(session)


@probe.get("/queued")
async def read_that_queues(session: Session, principal: County) -> dict[str, str]:
    return _queue_a_change(session, principal)


@probe.post("/orm")
async def orm_write(session: Session, principal: County) -> dict[str, str]:
    await single_write(session)
    return await _write_a_region(session)


@probe.post("/queued")
async def queued(session: Session, principal: County) -> dict[str, str]:
    await single_write(session)
    return _queue_a_change(session, principal)


@pytest.fixture
async def client(settings: Settings, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(
        name="probe",
        title="probe",
        description="probe",
        routers=[probe],
        settings=settings.model_copy(update={"db_pool_size": 1}),
        database_url=db_url,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe.test") as c,
    ):
        yield c


async def test_each_statement_is_its_own_transaction(client: httpx.AsyncClient, tokens: Tokens) -> None:
    h = tokens.headers("county_official", "530102")
    alone = (await client.post("/probe/xids", headers=h)).json()
    assert alone["alone"] is True and alone["ids"][0] != alone["ids"][1]
    keyed = (await client.post("/probe/xids", headers={**h, "Idempotency-Key": "k1"})).json()
    assert keyed["alone"] is False and keyed["ids"][0] == keyed["ids"][1]  # the claim's transaction
    # One pooled connection: the next request on it is in a transaction again (nothing leaked).
    await client.post("/probe/xids", headers=h)
    plain = (await client.post("/probe/xids", params={"alone": "false"}, headers=h)).json()
    assert plain["ids"][0] == plain["ids"][1]


async def test_a_read_runs_each_statement_alone(client: httpx.AsyncClient, tokens: Tokens) -> None:
    h = tokens.headers("county_official", "530102")
    r = await client.get("/probe/xids", headers=h)
    assert r.status_code == 200, r.text
    read = r.json()
    assert read["ids"][0] != read["ids"][1]
    # The one pooled connection goes back transactional: a plain write after the read keeps one.
    plain = (await client.post("/probe/xids", params={"alone": "false"}, headers=h)).json()
    assert plain["ids"][0] == plain["ids"][1]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/probe/orm"), ("POST", "/probe/queued"), ("GET", "/probe/orm"), ("GET", "/probe/queued")],
)
async def test_what_would_commit_apart_is_refused(
    client: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine, method: str, path: str
) -> None:
    r = await client.request(method, path, headers=tokens.headers("county_official", "530102"))
    assert (r.status_code, r.json()["code"]) == (500, "INTERNAL_ERROR")
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).where(Region.code == VILLAGE))).scalar_one() == 0
        assert (
            await conn.execute(select(func.count()).where(AuditEvent.resource == "probe"))
        ).scalar_one() == 0
