"""Appeals (the 15-day window at its boundary, upheld → a full reversal and a credit where part was
settled), settlements (the acceptance table, idempotent by payment_ref also under a race) and
replacement requests."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.models import ReplacementRequest
from tests.conftest import business_day
from tests.penalties.conftest import Case


async def _appeal(case: Case, violation: int) -> tuple[int, dict[str, object]]:
    r = await case.penalty.post(
        f"/api/v1/violations/{violation}/appeals",
        json={"grounds": "记录系系统故障所致"},
        headers=case.world.h,
    )
    return r.status_code, dict(r.json())


async def test_the_appeal_window_includes_its_15th_day(case: Case) -> None:
    today = business_day()
    last_day = await case.confirmed(decided_on=str(today - timedelta(days=15)), discovered_on="2026-03-05")
    status, body = await _appeal(case, last_day["id"])
    assert status == 201 and body["status"] == "pending"
    status, body = await _appeal(case, last_day["id"])
    assert status == 409 and body["code"] == "APPEAL_EXISTS"
    too_late = await case.confirmed(decided_on=str(today - timedelta(days=16)))
    status, body = await _appeal(case, too_late["id"])
    assert status == 422 and body["code"] == "APPEAL_WINDOW_CLOSED"
    reported = (await case.violation(who=("township_official", "530102001"))).json()
    status, body = await _appeal(case, reported["id"])
    assert status == 409 and body["code"] == "VIOLATION_NOT_CONFIRMED"
    stranger = case.tokens.headers("contractor", "530102", org_id="999999")
    r = await case.penalty.post(
        f"/api/v1/violations/{last_day['id']}/appeals", json={"grounds": "x"}, headers=stranger
    )
    assert r.status_code == 404
    r = await case.penalty.post(
        f"/api/v1/violations/{last_day['id']}/appeals", json={"grounds": "x"}, headers=case.county()
    )
    assert r.status_code == 403


async def test_upheld_appeal_reverses_in_full_and_leaves_a_credit(case: Case) -> None:
    v = await case.confirmed("1.5")  # 4275.00
    settled = await case.settle("3000.00", "pay-1")
    assert settled.json()["deductions_applied"] == "3000.00"
    _, appeal = await _appeal(case, v["id"])
    r = await case.penalty.post(
        f"/api/v1/appeals/{appeal['id']}/decide",
        json={"outcome": "upheld", "reason": "证据不足"},
        headers=case.county(),
    )
    assert r.status_code == 200 and r.json()["status"] == "upheld"
    again = await case.penalty.post(
        f"/api/v1/appeals/{appeal['id']}/decide",
        json={"outcome": "rejected", "reason": "x"},
        headers=case.county(),
    )
    assert again.status_code == 409 and again.json()["code"] == "APPEAL_DECIDED"
    assert (await case.penalty.get(f"/api/v1/violations/{v['id']}", headers=case.county())).json()[
        "status"
    ] == "overturned"
    entries = await case.entries()
    assert [(e["entry_type"], e["amount"], e["appeal_id"]) for e in entries] == [
        ("deduction", "4275.00", None),
        ("settlement", "3000.00", None),
        ("reversal", "4275.00", str(appeal["id"])),
    ]
    assert (await case.balance()) | {"contract_id": 0} == {
        "contract_id": 0,
        "deducted": "4275.00",
        "reversed": "4275.00",
        "settled": "3000.00",
        "outstanding": "0.00",
        "credit": "3000.00",
    }
    repaid = (await case.settle("10000.00", "pay-2", period="2026-04")).json()
    assert (repaid["deductions_applied"], repaid["credit_repaid"], repaid["net_amount"]) == (
        "0.00",
        "3000.00",
        "13000.00",
    )
    assert (await case.balance())["credit"] == "0.00"
    assert (await case.entries())[-1]["amount"] == "-3000.00"


async def test_rejected_appeal_keeps_the_deduction(case: Case) -> None:
    v = await case.confirmed("2")
    _, appeal = await _appeal(case, v["id"])
    r = await case.penalty.post(
        f"/api/v1/appeals/{appeal['id']}/decide",
        json={"outcome": "rejected", "reason": "事实清楚"},
        headers=case.county(),
    )
    assert r.json()["status"] == "rejected"
    assert [e["entry_type"] for e in await case.entries()] == ["deduction"]
    listed = await case.penalty.get("/api/v1/appeals", params={"status": "rejected"}, headers=case.world.h)
    assert [a["id"] for a in listed.json()["items"]] == [appeal["id"]]


async def test_acceptance_settlement(case: Case) -> None:
    await case.confirmed("1.5")
    await case.confirmed("3")
    assert (await case.balance())["outstanding"] == "12825.00"
    first = await case.settle("10000.00", "pay-1")
    assert first.status_code == 201
    assert {k: first.json()[k] for k in ("deductions_applied", "net_amount", "carried_forward")} == {
        "deductions_applied": "10000.00",
        "net_amount": "0.00",
        "carried_forward": "2825.00",
    }
    second = await case.settle("30000.00", "pay-2", period="2026-04")
    assert {k: second.json()[k] for k in ("deductions_applied", "net_amount", "carried_forward")} == {
        "deductions_applied": "2825.00",
        "net_amount": "27175.00",
        "carried_forward": "0.00",
    }
    count = len(await case.entries())
    again = await case.settle("30000.00", "pay-2", period="2026-04")
    assert again.status_code == 200 and again.json() == second.json()
    assert len(await case.entries()) == count
    reused = await case.settle("31000.00", "pay-2", period="2026-04")
    assert reused.status_code == 422 and reused.json()["code"] == "PAYMENT_REF_REUSED"


async def test_32_racing_settlements_of_one_payment_make_one_entry(case: Case) -> None:
    await case.confirmed("3")
    answers = await asyncio.gather(*(case.settle("5000.00", "pay-race") for _ in range(32)))
    assert sorted(r.status_code for r in answers) == [200] * 31 + [201]
    assert len({r.text for r in answers}) == 1
    assert [e["entry_type"] for e in await case.entries()] == ["deduction", "settlement"]


async def test_who_settles(case: Case) -> None:
    body = {"contract_id": case.contract, "period": "2026-03", "gross_amount": "1.00", "payment_ref": "p"}
    t = case.tokens
    for headers, status in (
        (t.headers("county_official", "530103"), 404),
        (case.world.h, 403),
        (t.headers("auditor", "53"), 403),
        ({}, 401),
    ):
        assert (
            await case.penalty.post("/api/v1/settlements", json=body, headers=headers)
        ).status_code == status
    for bad in (
        {"period": "2026-13"},
        {"gross_amount": "0.00"},
        {"gross_amount": 1.5},
        {"payment_ref": "a b"},
    ):
        r = await case.penalty.post("/api/v1/settlements", json={**body, **bad}, headers=case.county())
        assert r.status_code == 422, bad


async def test_replacement_requests(case: Case) -> None:
    today = business_day()
    v = await case.confirmed()
    body = {"dispatch_id": case.dispatch, "violation_id": v["id"], "reason": "弄虚作假，要求更换"}
    r = await case.penalty.post("/api/v1/replacement-requests", json=body, headers=case.county())
    assert r.status_code == 201 and r.json()["status"] == "open"
    assert r.json()["due_date"] == str(today + timedelta(days=15))
    req = r.json()["id"]
    overdue = await case.penalty.post(
        "/api/v1/replacement-requests", json={**body, "due_date": str(today)}, headers=case.county()
    )
    assert overdue.json()["status"] == "open"  # due today: not yet overdue
    fulfil = f"/api/v1/replacement-requests/{req}/fulfil"
    newcomer = await case.world.person()
    not_ended = await case.world.dispatch(newcomer)
    assert not_ended.status_code == 201  # the village has room for two
    r = await case.penalty.post(
        fulfil, json={"new_dispatch_id": not_ended.json()["id"]}, headers=case.world.h
    )
    assert r.status_code == 422 and r.json()["code"] == "OLD_DISPATCH_NOT_ENDED"
    ended = await case.world.api.post(
        f"/api/v1/dispatches/{case.dispatch}/end",
        json={"end_date": "2026-03-31", "reason": "replaced"},
        headers=case.world.h,
    )
    assert ended.status_code == 200
    assert (
        await case.penalty.post(
            fulfil, json={"new_dispatch_id": not_ended.json()["id"]}, headers=case.county()
        )
    ).status_code == 403
    done = await case.penalty.post(
        fulfil, json={"new_dispatch_id": not_ended.json()["id"]}, headers=case.world.h
    )
    assert done.status_code == 200 and done.json()["status"] == "fulfilled"
    twice = await case.penalty.post(
        fulfil, json={"new_dispatch_id": not_ended.json()["id"]}, headers=case.world.h
    )
    assert twice.status_code == 409
    listed = await case.penalty.get(
        "/api/v1/replacement-requests", params={"status": "fulfilled"}, headers=case.county()
    )
    assert [x["id"] for x in listed.json()["items"]] == [req]
    opened = await case.penalty.get(
        "/api/v1/replacement-requests", params={"status": "open"}, headers=case.county()
    )
    assert [x["id"] for x in opened.json()["items"]] == [overdue.json()["id"]]
    past = await case.penalty.post(
        "/api/v1/replacement-requests",
        json={**body, "due_date": str(today - timedelta(days=1))},
        headers=case.county(),
    )
    assert past.status_code == 422 and past.json()["code"] == "DUE_DATE_PASSED"


async def test_a_request_past_its_due_date_is_overdue(case: Case, engine: AsyncEngine) -> None:
    today = business_day()
    body = {"dispatch_id": case.dispatch, "reason": "要求更换", "due_date": str(today)}
    made = (await case.penalty.post("/api/v1/replacement-requests", json=body, headers=case.county())).json()
    assert made["status"] == "open"  # the due date itself is still in time
    async with engine.begin() as conn:  # the day after: the due date is yesterday
        await conn.execute(
            update(ReplacementRequest)
            .where(ReplacementRequest.id == made["id"])
            .values(due_date=today - timedelta(days=1))
        )
    read = await case.penalty.get(f"/api/v1/replacement-requests/{made['id']}", headers=case.county())
    assert read.json()["status"] == "overdue"
    for status, ids in (("overdue", [made["id"]]), ("open", []), ("fulfilled", [])):
        listed = await case.penalty.get(
            "/api/v1/replacement-requests", params={"status": status}, headers=case.county()
        )
        assert [x["id"] for x in listed.json()["items"]] == ids, status
