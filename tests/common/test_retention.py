"""Idempotency-Key retention (issue 13 item 7): answers older than ``idempotency_keep_days`` are
purged in batches that skip what writers hold, and an expired key then runs again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import retention
from services.common.settings import Settings
from tests.conftest import Tokens

BODY = {"code": "530102981", "name": "保留期街道"}


async def _age(engine: AsyncEngine, key: str, days: float) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE idempotency_keys SET created_at = now() - make_interval(secs => :s) WHERE key = :k"),
            {"s": days * 86400, "k": key},
        )


async def test_an_expired_key_runs_again(api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine) -> None:
    h = {**tokens.headers("county_official", "530102", sub="u1"), "Idempotency-Key": "old"}
    assert (await api.post("/api/v1/regions", json=BODY, headers=h)).status_code == 201
    other = {**h, "Idempotency-Key": "recent"}
    assert (
        await api.post("/api/v1/regions", json={**BODY, "code": "530102982"}, headers=other)
    ).status_code == 201
    await _age(engine, "old", 7.01)
    await _age(engine, "recent", 6.99)
    now = datetime.now(UTC)
    assert await retention.purge_idempotency(engine, service="staffing", now=now, keep_days=7) == 1
    assert await retention.purge_idempotency(engine, service="staffing", now=now, keep_days=7) == 0
    # The recent key still replays; the expired one runs again (the region exists now: 409, not a replay).
    again = await api.post("/api/v1/regions", json={**BODY, "code": "530102982"}, headers=other)
    assert again.headers.get("idempotent-replayed") == "true"
    expired = await api.post("/api/v1/regions", json={**BODY, "name": "另一个"}, headers=h)
    assert (expired.status_code, expired.json()["code"]) == (409, "REGION_EXISTS")
    assert "idempotent-replayed" not in expired.headers


async def test_purge_takes_only_its_own_service_and_skips_held_rows(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    h = {**tokens.headers("county_official", "530102", sub="u1"), "Idempotency-Key": "held"}
    assert (await api.post("/api/v1/regions", json=BODY, headers=h)).status_code == 201
    await _age(engine, "held", 30)
    now = datetime.now(UTC)
    assert await retention.purge_idempotency(engine, service="contract", now=now, keep_days=7) == 0
    async with engine.connect() as writer:
        await writer.execute(text("SELECT 1 FROM idempotency_keys WHERE key = 'held' FOR UPDATE"))
        # A writer holds the row: the purge skips it instead of waiting.
        assert await retention.purge_idempotency(engine, service="staffing", now=now, keep_days=7) == 0
        await writer.rollback()
    assert await retention.purge_idempotency(engine, service="staffing", now=now, keep_days=7) == 1


async def test_more_than_a_batch(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO idempotency_keys (service, sub, method, route, key, request_hash, state,"
                " response_status, created_at)"
                " SELECT 'penalty', 's', 'POST', '/r', 'k' || n, 'h', 'completed', 201,"
                " now() - interval '8 days'"
                " FROM generate_series(1, :n) AS n"
            ),
            {"n": retention.BATCH * 2 + 5},
        )
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert await retention.purge_idempotency(engine, service="penalty", now=now, keep_days=7) == 2005


def test_keeping_fewer_than_seven_days_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(idempotency_keep_days=6)
    assert Settings(idempotency_keep_days=7).idempotency_keep_days == 7
