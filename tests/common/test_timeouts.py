"""A row lock held by a stuck transaction (issue 13 item 4): a request behind it gives up after
``db_lock_timeout_ms`` with 503 ``DATABASE_BUSY`` instead of hanging, and the pool serves the next
request; a runaway statement is 504."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import problems
from services.common.settings import Settings
from services.staffing_api.app import create_app
from tests.conftest import Tokens

STATS = "/api/v1/regions/530102001001/stats/2026-06"


@pytest.fixture
async def impatient(settings: Settings, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """staffing_api whose statements wait at most 300 ms for a lock."""
    app = create_app(settings.model_copy(update={"db_lock_timeout_ms": 300, "db_pool_size": 2}), db_url)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://staffing.test") as client,
    ):
        yield client


async def test_a_stuck_lock_is_503_and_the_pool_recovers(
    impatient: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    h = tokens.headers("county_official", "530102")
    assert (await impatient.put(STATS, json={"population": 100}, headers=h)).status_code in (200, 201)
    async with engine.connect() as stuck:
        await stuck.execute(
            text("SELECT 1 FROM region_stats WHERE region_code = '530102001001' FOR UPDATE")
        )  # a transaction that holds the row and does nothing more
        for _ in range(3):  # more than the pool's two connections: none is lost to a wait
            start = time.monotonic()
            r = await impatient.put(STATS, json={"population": 200}, headers=h)
            assert (r.status_code, r.json()["code"]) == (503, "DATABASE_BUSY"), r.text
            assert r.headers["retry-after"] == "1" and time.monotonic() - start < 5
        await stuck.rollback()
    r = await impatient.put(STATS, json={"population": 300}, headers=h)
    assert r.status_code == 200, r.text
    assert (await impatient.get(STATS, headers=h)).json()["population"] == 300


class _Canceled(Exception):
    sqlstate = "57014"


def test_a_statement_timeout_is_504() -> None:
    err = problems.to_domain_error(DBAPIError("SELECT", {}, _Canceled()))
    assert err is not None and (err.code, err.status) == ("DATABASE_TIMEOUT", 504)
