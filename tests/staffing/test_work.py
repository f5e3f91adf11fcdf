"""Duties, tasks, work logs (single, batch, offline resends) and workload."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.models import WorkLog
from tests.conftest import Tokens, business_day, days_from_today
from tests.staffing.factories import contract, dispatch
from tests.staffing.test_quotas_over_data import _person

VILLAGE = "530102001001"


async def test_duty_catalog(api: httpx.AsyncClient, tokens: Tokens) -> None:
    h = tokens.headers("worker", VILLAGE, org_id="1")
    every = (await api.get("/api/v1/duties", headers=h)).json()
    by_level = {
        lvl: [d["code"] for d in every if d["level"] == lvl] for lvl in ("county", "township", "village")
    }
    assert len(by_level["county"]) == 5 and len(by_level["township"]) == 10 and len(by_level["village"]) == 6
    village = (await api.get("/api/v1/duties", params={"level": "village"}, headers=h)).json()
    assert {d["code"] for d in village} == {
        "policy_consultation",
        "application_assistance",
        "emergency_assistance",
        "mobilize_social_forces",
        "children_and_welfare_policy",
        "social_organization_supervision",
    }
    assert all(d["name_zh"] and d["name_en"] for d in every)


@pytest.fixture
async def posted(engine: AsyncEngine) -> dict[str, int]:
    """A worker posted to a village since 30 days ago, and one at an institution."""
    cid = await contract(engine, "530102")
    person = await _person(engine, 50)
    other = await _person(engine, 51)
    village = await dispatch(engine, cid, person, VILLAGE, start=business_day() - timedelta(days=30))
    institution = await dispatch(
        engine, cid, other, "530102001", level="institution", start=business_day() - timedelta(days=30)
    )
    return {"person": person, "dispatch": village, "institution": institution, "other": other}


async def test_tasks_within_duties(api: httpx.AsyncClient, tokens: Tokens, posted: dict[str, int]) -> None:
    h = tokens.headers("township_official", "530102001")
    ok = await api.post(
        "/api/v1/tasks",
        json={
            "dispatch_id": posted["dispatch"],
            "duty_code": "emergency_assistance",
            "due_date": str(business_day()),
            "description": "入户核实",
        },
        headers=h,
    )
    assert ok.status_code == 201, ok.text
    out = await api.post(
        "/api/v1/tasks",
        json={
            "dispatch_id": posted["dispatch"],
            "duty_code": "means_test",
            "due_date": str(business_day()),
            "description": "x",
        },
        headers=h,
    )
    assert out.status_code == 422 and out.json()["code"] == "DUTY_OUT_OF_SCOPE"
    unknown = await api.post(
        "/api/v1/tasks",
        json={
            "dispatch_id": posted["dispatch"],
            "duty_code": "cook_lunch",
            "due_date": str(business_day()),
            "description": "x",
        },
        headers=h,
    )
    assert unknown.json()["code"] == "DUTY_OUT_OF_SCOPE"
    # Institutions use the township list.
    inst = await api.post(
        "/api/v1/tasks",
        json={
            "dispatch_id": posted["institution"],
            "duty_code": "means_test",
            "due_date": str(business_day()),
            "description": "x",
        },
        headers=h,
    )
    assert inst.status_code == 201
    elsewhere = tokens.headers("township_official", "530102002")
    assert (
        await api.post(
            "/api/v1/tasks",
            json={
                "dispatch_id": posted["dispatch"],
                "duty_code": "emergency_assistance",
                "due_date": str(business_day()),
                "description": "x",
            },
            headers=elsewhere,
        )
    ).status_code == 404
    worker = tokens.headers("worker", VILLAGE, sub=str(posted["person"]), org_id="7")
    assert (
        await api.post(
            "/api/v1/tasks",
            json={
                "dispatch_id": posted["dispatch"],
                "duty_code": "emergency_assistance",
                "due_date": str(business_day()),
                "description": "x",
            },
            headers=worker,
        )
    ).status_code == 403
    assert (await api.get(f"/api/v1/tasks/{ok.json()['id']}", headers=worker)).status_code == 200
    stranger = tokens.headers("worker", VILLAGE, sub=str(posted["other"]), org_id="7")
    assert (await api.get(f"/api/v1/tasks/{ok.json()['id']}", headers=stranger)).status_code == 404


def _log(posted: dict[str, int], **kw: object) -> dict[str, object]:
    return {
        "client_id": str(uuid.uuid4()),
        "dispatch_id": posted["dispatch"],
        "duty_code": "application_assistance",
        "date": str(business_day()),
        "program": "dibao",
        "quantity": 2,
        **kw,
    }


async def test_single_log_and_resend(
    api: httpx.AsyncClient, tokens: Tokens, posted: dict[str, int], engine: AsyncEngine
) -> None:
    worker = tokens.headers("worker", VILLAGE, sub=str(posted["person"]), org_id="7")
    body = _log(posted)
    first = await api.post("/api/v1/work-logs", json=body, headers=worker)
    assert first.status_code == 201, first.text
    again = await api.post("/api/v1/work-logs", json=body, headers=worker)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(WorkLog))).scalar_one() == 1
    stranger = tokens.headers("worker", VILLAGE, sub=str(posted["other"]), org_id="7")
    assert (await api.post("/api/v1/work-logs", json=_log(posted), headers=stranger)).status_code == 404
    official = tokens.headers("township_official", "530102001")
    assert (await api.post("/api/v1/work-logs", json=_log(posted), headers=official)).status_code == 201


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"duty_code": "means_test"}, "DUTY_OUT_OF_SCOPE"),
        ({"date": timedelta(days=1)}, "DATE_IN_FUTURE"),
        ({"date": timedelta(days=-31)}, "DATE_OUTSIDE_DISPATCH"),
        ({"task_id": 999999}, "TASK_NOT_FOUND"),
    ],
)
async def test_log_rejections(
    api: httpx.AsyncClient, tokens: Tokens, posted: dict[str, int], change: dict[str, object], code: str
) -> None:
    worker = tokens.headers("worker", VILLAGE, sub=str(posted["person"]), org_id="7")
    r = await api.post("/api/v1/work-logs", json=_log(posted, **days_from_today(change)), headers=worker)
    assert r.status_code == 422 and r.json()["code"] == code


async def test_log_boundaries(api: httpx.AsyncClient, tokens: Tokens, posted: dict[str, int]) -> None:
    worker = tokens.headers("worker", VILLAGE, sub=str(posted["person"]), org_id="7")
    first_day = await api.post(
        "/api/v1/work-logs", json=_log(posted, date=str(business_day() - timedelta(days=30))), headers=worker
    )
    assert first_day.status_code == 201
    assert (
        await api.post("/api/v1/work-logs", json=_log(posted, quantity=0), headers=worker)
    ).status_code == 422


async def test_batch(
    api: httpx.AsyncClient, tokens: Tokens, posted: dict[str, int], engine: AsyncEngine
) -> None:
    worker = tokens.headers("worker", VILLAGE, sub=str(posted["person"]), org_id="7")
    stored = _log(posted)
    await api.post("/api/v1/work-logs", json=stored, headers=worker)
    twin = _log(posted)
    items = [
        _log(posted),
        stored,
        _log(posted, duty_code="means_test"),
        twin,
        twin,
        _log(posted, dispatch_id=posted["institution"]),
        _log(posted, date=str(business_day() + timedelta(days=2))),
    ]
    r = await api.post("/api/v1/work-logs/batch", json={"items": items}, headers=worker)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["client_id"] for x in results] == [i["client_id"] for i in items]
    assert [x["status"] for x in results] == [
        "created",
        "duplicate",
        "rejected",
        "created",
        "duplicate",
        "rejected",
        "rejected",
    ]
    assert [x["error"]["code"] for x in results if x["status"] == "rejected"] == [
        "DUTY_OUT_OF_SCOPE",
        "DISPATCH_NOT_FOUND",
        "DATE_IN_FUTURE",
    ]
    assert results[3]["log_id"] == results[4]["log_id"]
    again = await api.post("/api/v1/work-logs/batch", json={"items": items}, headers=worker)
    assert [x["status"] for x in again.json()["results"]][:5] == [
        "duplicate",
        "duplicate",
        "rejected",
        "duplicate",
        "duplicate",
    ]
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(WorkLog))).scalar_one() == 3
    many = [_log(posted) for _ in range(500)]
    assert (
        await api.post("/api/v1/work-logs/batch", json={"items": many}, headers=worker)
    ).status_code == 200
    malformed = [
        _log(posted, dispatch_id=2**70),
        {"note": "no client id"},
        _log(posted, quantity=0),
        _log(posted),
    ]
    mixed = (await api.post("/api/v1/work-logs/batch", json={"items": malformed}, headers=worker)).json()[
        "results"
    ]
    assert [x["status"] for x in mixed] == ["rejected", "rejected", "rejected", "created"]  # good items kept
    assert {x["error"]["code"] for x in mixed[:3]} == {"VALIDATION_FAILED"}
    assert mixed[1]["client_id"] is None and "quantity" in mixed[2]["error"]["message"]
    too_many = [_log(posted) for _ in range(501)]
    assert (
        await api.post("/api/v1/work-logs/batch", json={"items": too_many}, headers=worker)
    ).status_code == 422


async def test_workload(api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine) -> None:
    cid = await contract(engine, "530102")
    kunming = await dispatch(
        engine, cid, await _person(engine, 60), VILLAGE, start=business_day() - timedelta(days=10)
    )
    zx = await contract(engine, "530627")
    zhenxiong = await dispatch(
        engine,
        zx,
        await _person(engine, 61, "530627"),
        "530627001",
        level="township",
        start=business_day() - timedelta(days=10),
    )
    official = tokens.headers()
    for d, duty, qty in [
        (kunming, "application_assistance", 3),
        (kunming, "policy_consultation", 2),
        (zhenxiong, "means_test", 5),
    ]:
        r = await api.post(
            "/api/v1/work-logs",
            json={
                "client_id": str(uuid.uuid4()),
                "dispatch_id": d,
                "duty_code": duty,
                "date": str(business_day()),
                "quantity": qty,
            },
            headers=official,
        )
        assert r.status_code == 201, r.text
    by_pref = (await api.get("/api/v1/workload", params={"group_by": "prefecture"}, headers=official)).json()[
        "items"
    ]
    assert by_pref == [{"key": "5301", "logs": 2, "quantity": 5}, {"key": "530627", "logs": 1, "quantity": 5}]
    by_duty = (await api.get("/api/v1/workload", params={"group_by": "duty"}, headers=official)).json()[
        "items"
    ]
    assert {i["key"]: i["quantity"] for i in by_duty} == {
        "application_assistance": 3,
        "policy_consultation": 2,
        "means_test": 5,
    }
    county = tokens.headers("county_official", "530102")
    mine = (await api.get("/api/v1/workload", params={"group_by": "township"}, headers=county)).json()[
        "items"
    ]
    assert mine == [{"key": "530102001", "logs": 2, "quantity": 5}]
    none = (
        await api.get(
            "/api/v1/workload", params={"from": str(business_day() + timedelta(days=1))}, headers=official
        )
    ).json()
    assert none["items"] == []
    assert (await api.get("/api/v1/workload", params={"region": "5306"}, headers=county)).status_code == 404
    assert (
        await api.get("/api/v1/workload", headers=tokens.headers("worker", VILLAGE, org_id="7"))
    ).status_code == 403


async def test_read_back_scoped(api: httpx.AsyncClient, tokens: Tokens, posted: dict[str, int]) -> None:
    worker = tokens.headers("worker", VILLAGE, sub=str(posted["person"]), org_id="7")
    stranger = tokens.headers("worker", VILLAGE, sub=str(posted["other"]), org_id="7")
    official = tokens.headers("township_official", "530102001")
    log = (await api.post("/api/v1/work-logs", json=_log(posted), headers=worker)).json()
    task = (
        await api.post(
            "/api/v1/tasks",
            json={
                "dispatch_id": posted["dispatch"],
                "duty_code": "policy_consultation",
                "due_date": str(business_day()),
                "description": "x",
            },
            headers=official,
        )
    ).json()
    assert (await api.get(f"/api/v1/work-logs/{log['id']}", headers=worker)).status_code == 200
    assert (await api.get(f"/api/v1/work-logs/{log['id']}", headers=stranger)).status_code == 404
    assert (
        await api.get(
            f"/api/v1/work-logs/{log['id']}", headers=tokens.headers("township_official", "530102002")
        )
    ).status_code == 404
    assert (
        await api.get(f"/api/v1/work-logs/{log['id']}", headers=tokens.headers("auditor", "5301"))
    ).status_code == 200
    assert [x["id"] for x in (await api.get("/api/v1/work-logs", headers=worker)).json()["items"]] == [
        log["id"]
    ]
    assert (await api.get("/api/v1/work-logs", headers=stranger)).json()["items"] == []
    assert [
        x["id"]
        for x in (
            await api.get("/api/v1/work-logs", params={"region": "530102001"}, headers=official)
        ).json()["items"]
    ] == [log["id"]]
    assert (
        await api.get("/api/v1/work-logs", params={"region": "530102"}, headers=official)
    ).status_code == 404
    assert (
        await api.get("/api/v1/work-logs", headers=tokens.headers("service", "53", scope="events:read"))
    ).status_code == 403
    assert [x["id"] for x in (await api.get("/api/v1/tasks", headers=worker)).json()["items"]] == [task["id"]]
    assert (await api.get("/api/v1/tasks", headers=stranger)).json()["items"] == []
    assert (
        await api.post("/api/v1/work-logs", json=_log(posted, task_id=task["id"]), headers=worker)
    ).status_code == 201
