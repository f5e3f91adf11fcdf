"""One transaction per request committed before the response; audit and change feed in the same
transaction; event ids in commit order; 500s that reveal nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.models import AuditEvent, Event, IdempotencyKey, Region
from tests.conftest import Tokens

FAIL_AT_COMMIT = """
CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.name = 'FAIL_AT_COMMIT' THEN RAISE EXCEPTION 'secret internal detail'; END IF;
  RETURN NULL;
END $$;
"""
FAIL_TRIGGER = (
    "CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON regions "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_at_commit()"
)


async def test_commit_failure_is_a_500_not_a_2xx(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(FAIL_AT_COMMIT))
        await conn.execute(text(FAIL_TRIGGER))
    h = {**tokens.headers("county_official", "530102", sub="c"), "Idempotency-Key": "commit-fails"}
    body = {"code": "530102970", "name": "FAIL_AT_COMMIT"}
    r = await api.post("/api/v1/regions", json=body, headers=h)
    # The deferred check runs at COMMIT: had the commit come after the response, this would be a 201.
    assert r.status_code == 500
    problem = r.json()
    assert problem["code"] == "INTERNAL_ERROR" and problem["request_id"] == r.headers["x-request-id"]
    assert "secret" not in r.text and "INSERT" not in r.text and "Traceback" not in r.text
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).where(Region.code == body["code"]))).scalar_one() == 0
        assert (
            await conn.execute(select(func.count()).where(AuditEvent.resource_id == body["code"]))
        ).scalar_one() == 0
        # A 5xx is not an answer: the key was released so the retry runs again.
        assert (
            await conn.execute(select(func.count()).where(IdempotencyKey.key == "commit-fails"))
        ).scalar_one() == 0
    async with engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER fail_at_commit ON regions"))
    retry = await api.post("/api/v1/regions", json=body, headers=h)
    assert retry.status_code == 201 and "idempotent-replayed" not in retry.headers


async def test_write_is_audited_with_request_id(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    h = {**tokens.headers("county_official", "530102", sub="auditee"), "X-Request-ID": "req-123.abc"}
    r = await api.post("/api/v1/regions", json={"code": "530102971", "name": "审计街道"}, headers=h)
    assert r.headers["x-request-id"] == "req-123.abc"
    async with engine.connect() as conn:
        row = (await conn.execute(select(AuditEvent).where(AuditEvent.resource_id == "530102971"))).one()
    assert (row.sub, row.role, row.action, row.resource, row.request_id, row.service) == (
        "auditee",
        "county_official",
        "created",
        "region",
        "req-123.abc",
        "staffing",
    )
    bad_id = await api.get("/api/v1/regions/53", headers={**tokens.headers(), "X-Request-ID": "bad id!"})
    assert bad_id.headers["x-request-id"] != "bad id!" and len(bad_id.headers["x-request-id"]) == 32


async def test_audit_and_events_are_append_only(engine: AsyncEngine) -> None:
    for statement in ("UPDATE audit_events SET sub = 'x'", "DELETE FROM events", "TRUNCATE audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))


async def test_audit_endpoint_roles_and_scope(api: httpx.AsyncClient, tokens: Tokens) -> None:
    await api.post(
        "/api/v1/regions",
        json={"code": "530102972", "name": "a"},
        headers=tokens.headers("county_official", "530102"),
    )
    await api.post(
        "/api/v1/regions",
        json={"code": "530103972", "name": "b"},
        headers=tokens.headers("county_official", "530103"),
    )
    county_auditor = await api.get("/api/v1/audit-events", headers=tokens.headers("auditor", "530102"))
    assert [e["resource_id"] for e in county_auditor.json()["items"]] == ["530102972"]
    everything = await api.get("/api/v1/audit-events", headers=tokens.headers())
    assert {e["resource_id"] for e in everything.json()["items"]} == {"530102972", "530103972"}
    assert (
        await api.get("/api/v1/audit-events", headers=tokens.headers("county_official", "530102"))
    ).status_code == 403
    assert (
        await api.get(
            "/api/v1/audit-events", params={"region": "5301"}, headers=tokens.headers("auditor", "530102")
        )
    ).status_code == 404


async def test_event_feed_scope_and_roles(api: httpx.AsyncClient, tokens: Tokens) -> None:
    await api.post(
        "/api/v1/regions",
        json={"code": "530102973", "name": "a"},
        headers=tokens.headers("county_official", "530102"),
    )
    await api.post(
        "/api/v1/regions",
        json={"code": "530103973", "name": "b"},
        headers=tokens.headers("county_official", "530103"),
    )
    mine = await api.get("/api/v1/events", headers=tokens.headers("county_official", "530102"))
    assert [e["resource_id"] for e in mine.json()["items"]] == ["530102973"]
    svc = await api.get("/api/v1/events", headers=tokens.headers("service", "5301", scope="events:read"))
    assert len(svc.json()["items"]) == 2
    ids = [e["id"] for e in svc.json()["items"]]
    after = await api.get("/api/v1/events", params={"after": ids[0]}, headers=tokens.headers())
    assert [e["id"] for e in after.json()["items"]] == ids[1:]
    assert (
        await api.get("/api/v1/events", headers=tokens.headers("service", "53", scope="staffing:read"))
    ).status_code == 403
    assert (
        await api.get("/api/v1/events", headers=tokens.headers("contractor", "530102", org_id="1"))
    ).status_code == 403


async def test_event_ids_follow_commit_order(stack: object, tokens: Tokens, engine: AsyncEngine) -> None:
    """Concurrent writers and a concurrent reader: the reader never sees an id appear behind it."""
    from tests.conftest import Stack

    assert isinstance(stack, Stack)
    api = stack.direct["staffing"]
    writer = tokens.headers("county_official", "530102")
    reader = tokens.headers()
    done = asyncio.Event()
    seen: list[int] = []

    async def write(i: int) -> None:
        r = await api.post(
            "/api/v1/regions", json={"code": f"530102{900 + i:03d}", "name": f"w{i}"}, headers=writer
        )
        assert r.status_code == 201

    async def read() -> None:
        after = 0
        while True:
            finished = done.is_set()
            page = (
                await api.get("/api/v1/events", params={"after": after, "limit": 500}, headers=reader)
            ).json()
            for e in page["items"]:
                seen.append(e["id"])
                after = e["id"]
            if finished:
                return
            await asyncio.sleep(0)

    reader_task = asyncio.create_task(read())
    await asyncio.gather(*(write(i) for i in range(40)))
    done.set()
    await reader_task
    async with engine.connect() as conn:
        all_ids = list((await conn.execute(select(Event.id).order_by(Event.id))).scalars())
    # Every event was seen exactly once, in order: none committed behind the reader's position.
    assert seen == all_ids == list(range(1, 41))
