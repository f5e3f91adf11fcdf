"""What a write sends PostgreSQL, message by message (asyncpg's query logger on the one pooled
connection): a new region without a key is its one statement (``single_write``); under a key it is
five round trips — ``BEGIN``, the key's lock and look-up, the insert, the answer, ``COMMIT`` — every
value bound, none in a message's text. (Folding the first into ``BEGIN`` and the answer into
``COMMIT`` was measured and undone: bench/README.md, "Fewer round trips for a keyed write".) The
logger sees what runs on the driver connection (``database.Statement``, ``BEGIN``, ``COMMIT``); a
statement SQLAlchemy runs (a replay's look-up) goes through asyncpg's prepared-statement API, which
the logger does not see."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.models import IdempotencyKey, Region
from services.common.settings import Settings
from services.staffing_api.app import create_app
from tests.conftest import Tokens

COUNTY = ("county_official", "530102")


class Sent:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.messages: list[str] = []

    async def during(self, method: str, path: str, **kw: Any) -> tuple[httpx.Response, list[str]]:
        """The response, and the messages sent while the request ran."""
        await self.client.get("/api/v1/regions/530102", headers=kw["headers"])  # the deny-list, cached
        await asyncio.sleep(0)  # asyncpg calls its loggers soon after each query, not during it
        self.messages.clear()
        r = await self.client.request(method, path, **kw)
        await asyncio.sleep(0)
        return r, list(self.messages)


@pytest.fixture
async def sent(settings: Settings, db_url: str) -> AsyncIterator[Sent]:
    app = create_app(
        settings.model_copy(update={"db_pool_size": 1, "revocation_cache_seconds": 60.0}), db_url
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://staffing.test") as client:
            log = Sent(client)

            def log_queries(dbapi_connection: Any, _record: Any) -> None:
                raw: asyncpg.Connection = dbapi_connection.driver_connection
                raw.add_query_logger(lambda q: log.messages.append(q.query))

            event.listen(app.state.db.engine.sync_engine, "connect", log_queries)
            await app.state.db.engine.dispose()  # the connection opened from now on is logged
            yield log


async def test_a_keyed_write_is_five_round_trips_with_every_value_bound(
    sent: Sent, tokens: Tokens, engine: AsyncEngine
) -> None:
    h = tokens.headers(*COUNTY) | {"Idempotency-Key": "it's-a-key"}
    body = {"code": "530102001980", "name": "测试'村", "kind": "village"}
    r, messages = await sent.during("POST", "/api/v1/regions", json=body, headers=h)
    assert r.status_code == 201, r.text
    assert messages[0] == "BEGIN" and messages[-1] == "COMMIT" and len(messages) == 5, messages
    take, work, answer = messages[1:4]
    # The lock and a look-up, writing nothing; the answer inserted once, at the end.
    assert "pg_try_advisory_xact_lock($1::BIGINT)" in take and "INSERT" not in take
    assert work.lstrip().startswith("WITH ins AS (")
    assert answer.startswith("INSERT INTO idempotency_keys") and "DO NOTHING" in answer
    for text in messages:  # the key, the caller and the answer travel as parameters
        assert "it's" not in text and "村" not in text and "county_official" not in text
    async with engine.connect() as conn:
        stored = (await conn.execute(select(IdempotencyKey).where(IdempotencyKey.key == "it's-a-key"))).one()
        name = (await conn.execute(select(Region.name).where(Region.code == body["code"]))).scalar_one()
    assert (stored.state, stored.response_status, stored.response_body) == ("completed", 201, r.content)
    assert stored.response_headers["location"] == "/api/v1/regions/530102001980"
    assert name == "测试'村"

    again, messages = await sent.during("POST", "/api/v1/regions", json=body, headers=h)
    assert (again.status_code, again.content, again.headers["idempotent-replayed"]) == (
        201,
        r.content,
        "true",
    )
    # Not claimed: the answer is looked up (through SQLAlchemy, unseen here) and nothing is written.
    assert messages == ["BEGIN", take, "ROLLBACK"], messages


async def test_a_write_without_a_key_is_its_one_statement(sent: Sent, tokens: Tokens) -> None:
    body = {"code": "530102001981", "name": "无键村", "kind": "village"}
    r, messages = await sent.during("POST", "/api/v1/regions", json=body, headers=tokens.headers(*COUNTY))
    assert r.status_code == 201, r.text
    assert len(messages) == 1 and messages[0].lstrip().startswith("WITH ins AS (")
