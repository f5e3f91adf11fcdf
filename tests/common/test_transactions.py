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


@pytest.mark.reads_feed
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


@pytest.mark.reads_feed
async def test_feed_order_under_64_concurrent_writers_and_a_live_reader(
    live_staffing: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    """64 writers against two real worker processes and a reader polling throughout: the reader
    sees every event exactly once and in id order; none ever appears behind its position."""
    writer = tokens.headers("county_official", "530102")
    reader = tokens.headers()
    done = asyncio.Event()
    readers = 4  # more readers, more chances to catch an id committed behind one of them
    seen: list[list[int]] = [[] for _ in range(readers)]
    writes_each = 8

    async def write(i: int) -> None:
        # A new township, then alternately its villages and its monthly figures (a write with
        # more statements between its first change and its commit).
        township = f"530102{100 + i:03d}"
        r = await live_staffing.post(
            "/api/v1/regions", json={"code": township, "name": f"w{i}"}, headers=writer
        )
        assert r.status_code == 201, r.text
        for j in range(1, writes_each):
            if j % 2:
                r = await live_staffing.post(
                    "/api/v1/regions",
                    json={"code": f"{township}{j:03d}", "name": f"w{i}.{j}"},
                    headers=writer,
                )
            else:
                r = await live_staffing.put(
                    f"/api/v1/regions/{township}/stats/2026-{j:02d}", json={"population": j}, headers=writer
                )
            assert r.status_code in (200, 201), r.text

    async def read(mine: list[int]) -> None:
        after = 0
        while True:
            finished = done.is_set()
            r = await live_staffing.get(
                "/api/v1/events", params={"after": after, "limit": 20}, headers=reader
            )
            page = r.json()
            for e in page["items"]:
                mine.append(e["id"])
                after = e["id"]
            if finished and not page["items"]:
                return
            await asyncio.sleep(0)

    reader_tasks = [asyncio.create_task(read(mine)) for mine in seen]
    await asyncio.gather(*(write(i) for i in range(64)))
    done.set()
    await asyncio.gather(*reader_tasks)
    async with engine.connect() as conn:
        all_ids = list((await conn.execute(select(Event.id).order_by(Event.id))).scalars())
    assert len(all_ids) == 64 * writes_each
    # Every event seen exactly once, in strictly increasing order: none committed behind a reader.
    for mine in seen:
        assert mine == all_ids


@pytest.mark.reads_feed
async def test_an_event_waits_for_every_earlier_writer(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    """The rule itself, made deterministic: a transaction that began writing first holds back the
    events of one that commits after it, until it ends; then both are served, in id order."""
    from services.common.changes import _FLUSH

    reader = tokens.headers()
    early = {
        "type": "region.noted",
        "resource": "region",
        "resource_id": "530102",
        "region": "530102",
        "data": {},
    }
    async with engine.connect() as slow:
        # The xid is taken, and not committed.
        await slow.execute(_FLUSH.clause, {"audit": [], "events": [early], "offset": 0})
        r = await api.post(
            "/api/v1/regions",
            json={"code": "530102974", "name": "后到"},
            headers=tokens.headers("county_official", "530102"),
        )
        assert r.status_code == 201
        held = await api.get("/api/v1/events", headers=reader)
        assert held.json() == {"items": [], "next_after": None}
        await slow.commit()
    served = (await api.get("/api/v1/events", headers=reader)).json()["items"]
    assert [e["type"] for e in served] == ["region.noted", "region.created"]
    assert served[0]["id"] < served[1]["id"]
    # A writer that rolls back leaves no gap the reader would wait on.
    async with engine.connect() as aborted:
        await aborted.execute(_FLUSH.clause, {"audit": [], "events": [early], "offset": 0})
        await aborted.rollback()
    r = await api.post(
        "/api/v1/regions",
        json={"code": "530102975", "name": "再来"},
        headers=tokens.headers("county_official", "530102"),
    )
    after = (await api.get("/api/v1/events", params={"after": served[1]["id"]}, headers=reader)).json()
    assert [e["resource_id"] for e in after["items"]] == ["530102975"]


@pytest.mark.parametrize("key", [None, "region-once"])
async def test_a_region_and_its_changes_are_written_together_or_not_at_all(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine, key: str | None
) -> None:
    """The insert writes its own audit row and event (one statement, ``single_write``; under a key in
    the claim's transaction): once when it inserts, never when the code is taken or the parent absent."""
    h = tokens.headers("county_official", "530102", sub="writer")
    keyed = (lambda k: {**h, "Idempotency-Key": f"{key}-{k}"}) if key else (lambda _k: h)
    created = await api.post("/api/v1/regions", json={"code": "530102974", "name": "新"}, headers=keyed(1))
    taken = await api.post("/api/v1/regions", json={"code": "530102974", "name": "再"}, headers=keyed(2))
    orphan = await api.post("/api/v1/regions", json={"code": "530102975001", "name": "孤"}, headers=keyed(3))
    assert (created.status_code, taken.status_code, orphan.status_code) == (201, 409, 422)
    assert (taken.json()["code"], orphan.json()["code"]) == ("REGION_EXISTS", "PARENT_NOT_FOUND")
    async with engine.connect() as conn:
        audit = (await conn.execute(select(AuditEvent.resource_id).where(AuditEvent.sub == "writer"))).all()
        events = (
            await conn.execute(select(Event.resource_id, Event.data).where(Event.resource == "region"))
        ).all()
    assert [a.resource_id for a in audit] == ["530102974"]
    assert [(e.resource_id, e.data) for e in events] == [("530102974", created.json())]
