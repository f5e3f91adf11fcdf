"""Idempotency-Key (README, *Idempotency*): replay, other body, races, 4xx stored, 5xx released."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.idempotency import body_hash, lock_key
from services.common.models import AuditEvent, Event, IdempotencyKey, Region
from tests.conftest import Tokens, until_waiting_on_a_lock

BODY = {"code": "530102980", "name": "幂等街道"}


async def _count_regions(engine: AsyncEngine, code: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).where(Region.code == code))).scalar_one())


async def test_replay_returns_the_original(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    h = {**tokens.headers("county_official", "530102", sub="u1"), "Idempotency-Key": "k-1"}
    first = await api.post("/api/v1/regions", json=BODY, headers=h)
    # Same body with keys in another order is the same body (canonical JSON).
    second = await api.post("/api/v1/regions", json={"name": BODY["name"], "code": BODY["code"]}, headers=h)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["location"] == first.headers["location"]
    assert "idempotent-replayed" not in first.headers
    assert await _count_regions(engine, BODY["code"]) == 1
    async with engine.connect() as conn:
        audits = (
            await conn.execute(select(func.count()).where(AuditEvent.resource_id == BODY["code"]))
        ).scalar_one()
    assert audits == 1


async def test_other_body_same_key(api: httpx.AsyncClient, tokens: Tokens) -> None:
    h = {**tokens.headers("county_official", "530102", sub="u1"), "Idempotency-Key": "k-2"}
    assert (await api.post("/api/v1/regions", json=BODY, headers=h)).status_code == 201
    r = await api.post("/api/v1/regions", json={**BODY, "name": "别的"}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_key_is_scoped_to_the_caller(api: httpx.AsyncClient, tokens: Tokens) -> None:
    a = {**tokens.headers("county_official", "530102", sub="alice"), "Idempotency-Key": "shared"}
    b = {**tokens.headers("county_official", "530102", sub="bob"), "Idempotency-Key": "shared"}
    assert (await api.post("/api/v1/regions", json=BODY, headers=a)).status_code == 201
    r = await api.post("/api/v1/regions", json=BODY, headers=b)  # bob's key is his own: the work runs
    assert r.status_code == 409 and r.json()["code"] == "REGION_EXISTS"
    assert "idempotent-replayed" not in r.headers


async def test_4xx_is_stored_and_replayed(api: httpx.AsyncClient, tokens: Tokens) -> None:
    h = {**tokens.headers("county_official", "530102", sub="u1"), "Idempotency-Key": "k-4xx"}
    body = {"code": "530102981001", "name": "无上级"}
    first = await api.post("/api/v1/regions", json=body, headers=h)
    assert first.status_code == 422 and first.json()["code"] == "PARENT_NOT_FOUND"
    again = await api.post("/api/v1/regions", json=body, headers=h)
    assert again.status_code == 422 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


async def test_invalid_key(api: httpx.AsyncClient, tokens: Tokens) -> None:
    for key in (b"", b"x" * 201, b"has space", "中文".encode()):
        h = {**tokens.headers("county_official", "530102"), "Idempotency-Key": key}
        r = await api.post("/api/v1/regions", json=BODY, headers=h)
        assert r.status_code == 422 and r.json()["code"] == "INVALID_IDEMPOTENCY_KEY", key

    ok = {**tokens.headers("county_official", "530102"), "Idempotency-Key": "x" * 200}
    assert (await api.post("/api/v1/regions", json=BODY, headers=ok)).status_code == 201


async def test_concurrent_twins_write_once(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    h = {**tokens.headers("county_official", "530102", sub="racer"), "Idempotency-Key": "race"}
    answers = await asyncio.gather(*(api.post("/api/v1/regions", json=BODY, headers=h) for _ in range(8)))
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}
    assert statuses.count(201) >= 1
    for a in answers:
        if a.status_code == 409:
            assert a.json()["code"] == "REQUEST_IN_PROGRESS" and a.headers["retry-after"] == "1"
        elif "idempotent-replayed" not in a.headers:
            fresh = a
    assert sum(1 for a in answers if a.status_code == 201 and "idempotent-replayed" not in a.headers) == 1
    assert fresh.json()["code"] == BODY["code"]
    assert await _count_regions(engine, BODY["code"]) == 1


async def test_in_progress_key_answers_409_and_a_dead_twin_frees_it(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine, target: str
) -> None:
    # A twin that took the key and has not finished holds the scope's advisory lock in its open
    # transaction; here that twin is this connection.
    scope = {
        "service": "staffing",
        "sub": "slow",
        "method": "POST",
        "route": "/api/v1/regions",
        "key": "busy",
    }
    h = {**tokens.headers("county_official", "530102", sub="slow"), "Idempotency-Key": "busy"}
    async with engine.connect() as twin:
        await twin.execute(select(func.pg_advisory_xact_lock(lock_key(scope))))
        r = await api.post("/api/v1/regions", json=BODY, headers=h)
        assert r.status_code == 409 and r.json()["code"] == "REQUEST_IN_PROGRESS"
        assert r.headers["retry-after"] == "1"
        # Another caller's same key is another scope: not blocked.
        other = {**tokens.headers("county_official", "530102", sub="quick"), "Idempotency-Key": "busy"}
        assert (await api.post("/api/v1/regions", json=BODY, headers=other)).status_code == 201
        await twin.rollback()  # the twin dies: its lock goes with its transaction, nothing stored
    retry = await api.post("/api/v1/regions", json={**BODY, "code": "530102982"}, headers=h)
    assert retry.status_code == 201 and "idempotent-replayed" not in retry.headers


async def test_claim_left_by_the_earlier_design_is_taken_over(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            IdempotencyKey.__table__.insert().values(
                service="staffing",
                sub="old",
                method="POST",
                route="/api/v1/regions",
                key="left-over",
                request_hash=_hash(BODY),
                state="in_progress",
                created_at=func.now() - timedelta(days=1),  # long dead (the bound: test_stepped_claims)
            )
        )
    h = {**tokens.headers("county_official", "530102", sub="old"), "Idempotency-Key": "left-over"}
    first = await api.post("/api/v1/regions", json=BODY, headers=h)
    again = await api.post("/api/v1/regions", json=BODY, headers=h)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    async with engine.connect() as conn:
        row = (await conn.execute(select(IdempotencyKey).filter_by(sub="old", key="left-over"))).one()
    assert (row.state, row.response_status) == ("completed", 201)


async def test_4xx_under_a_key_leaves_no_audit_row_or_event(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    h = {**tokens.headers("county_official", "530102", sub="u9"), "Idempotency-Key": "k-no-trace"}
    body = {"code": "530102983001", "name": "无上级"}
    assert (await api.post("/api/v1/regions", json=body, headers=h)).status_code == 422
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(AuditEvent))).scalar_one() == 0
        assert (await conn.execute(select(func.count()).select_from(Event))).scalar_one() == 0
        stored = (
            await conn.execute(select(IdempotencyKey.response_status).filter_by(key="k-no-trace"))
        ).one()
    assert stored.response_status == 422


def _hash(body: dict[str, str]) -> str:
    import json

    from services.common.idempotency import body_hash

    return body_hash("application/json", json.dumps(body).encode())


async def test_32_twins_across_worker_processes_write_once(
    live_staffing: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    """The same key sent 32 times at once to two real worker processes: one request does the work,
    every other answer is 409 in progress or the replayed 201."""
    h = {**tokens.headers("county_official", "530102", sub="twins"), "Idempotency-Key": "32"}
    answers = await asyncio.gather(
        *(live_staffing.post("/api/v1/regions", json=BODY, headers=h) for _ in range(32))
    )
    fresh = [a for a in answers if a.status_code == 201 and "idempotent-replayed" not in a.headers]
    assert len(fresh) == 1
    for a in answers:
        assert a.status_code in (201, 409)
        if a.status_code == 409:
            assert a.json()["code"] == "REQUEST_IN_PROGRESS"
        else:
            assert a.json() == fresh[0].json()
    assert await _count_regions(engine, BODY["code"]) == 1
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(Event))).scalar_one() == 1


async def test_an_answer_committed_after_the_look_up_is_the_one_returned(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    """The key's look-up reads its snapshot before the lock is taken (one statement,
    ``idempotency.TAKE``), so a twin's answer committed in between is not seen there: the answer's
    own insert meets it (``ON CONFLICT``), the request's work is undone and the twin's answer
    returned. The twin here is a transaction that has inserted its answer and not committed: the
    request's insert waits on it, and the twin commits then."""
    body = {"code": "530102983", "name": "迟到街道"}
    scope = {
        "service": "staffing",
        "sub": "late",
        "method": "POST",
        "route": "/api/v1/regions",
        "key": "late",
    }
    h = {**tokens.headers("county_official", "530102", sub="late"), "Idempotency-Key": "late"}
    twins_answer = b'{"code":"530102983","from":"the twin"}'
    async with engine.connect() as twin:
        await twin.execute(
            insert(IdempotencyKey).values(
                **scope, request_hash=body_hash("application/json", json.dumps(body).encode()),
                state="completed", response_status=201, response_body=twins_answer,
                response_headers={"content-type": "application/json"}, completed_at=func.now(),
            )
        )  # fmt: skip
        request = asyncio.create_task(api.post("/api/v1/regions", json=body, headers=h))
        await until_waiting_on_a_lock(engine, "INSERT INTO idempotency_keys")  # the answer, on the twin's
        await twin.commit()
    r = await asyncio.wait_for(request, 10)
    assert (r.status_code, r.content, r.headers["idempotent-replayed"]) == (201, twins_answer, "true")
    assert await _count_regions(engine, body["code"]) == 0  # the request's own work was undone
    async with engine.connect() as conn:
        audits = select(func.count()).where(AuditEvent.resource_id == body["code"])
        assert (await conn.execute(audits)).scalar_one() == 0
