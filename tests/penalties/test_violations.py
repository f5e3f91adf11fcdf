"""Violations through the API: a township reports, the county confirms or dismisses (or creates and
confirms at once), the acceptance deduction table, multiplier bounds, dates, roles and scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import business_day, days_from_today
from tests.penalties.conftest import TOWNSHIP, Case


@pytest.mark.parametrize("target", ["gateway"], indirect=True)  # a rule table: one path suffices
@pytest.mark.parametrize(
    ("multiplier", "amount"),
    [("1", "2850.00"), ("1.5", "4275.00"), ("2.37", "6754.50"), ("3", "8550.00"), ("3.00", "8550.00")],
)
async def test_acceptance_deductions(case: Case, multiplier: str, amount: str) -> None:
    v = await case.confirmed(multiplier)
    assert (v["status"], v["base"], v["amount"], v["ledger_seq"]) == ("confirmed", "2850.00", amount, 1)
    (entry,) = await case.entries()
    assert (entry["entry_type"], entry["amount"], entry["violation_id"], entry["seq"]) == (
        "deduction",
        amount,
        str(v["id"]),
        1,
    )
    assert (await case.balance())["outstanding"] == amount


@pytest.mark.parametrize("target", ["gateway"], indirect=True)  # a rule table: one path suffices
@pytest.mark.parametrize("multiplier", ["0.5", "0.99", "3.01", "1.234", "-1", "NaN"])
async def test_multiplier_out_of_range(case: Case, multiplier: str) -> None:
    r = await case.violation(multiplier=multiplier)
    assert r.status_code == 422 and r.json()["code"] in ("MULTIPLIER_OUT_OF_RANGE", "VALIDATION_FAILED"), (
        r.text
    )
    if multiplier != "NaN":
        assert r.json()["code"] == "MULTIPLIER_OUT_OF_RANGE"
    assert await case.entries() == []


async def test_report_then_confirm_exactly_once(case: Case) -> None:
    reported = await case.violation(who=TOWNSHIP)
    assert reported.status_code == 201 and reported.json()["status"] == "reported"
    vid = reported.json()["id"]
    assert await case.entries() == []
    url = f"/api/v1/violations/{vid}/confirm"
    first = await case.penalty.post(url, json={"multiplier": "2"}, headers=case.county())
    assert first.status_code == 200 and first.json()["amount"] == "5700.00"
    again = await case.penalty.post(url, json={"multiplier": "2"}, headers=case.county())
    assert again.status_code == 409 and again.json()["code"] == "VIOLATION_DECIDED"
    dismissed = await case.penalty.post(
        f"/api/v1/violations/{vid}/dismiss", json={"reason": "x"}, headers=case.county()
    )
    assert dismissed.status_code == 409
    assert len(await case.entries()) == 1


async def test_dismiss_appends_nothing(case: Case) -> None:
    vid = (await case.violation(who=TOWNSHIP)).json()["id"]
    r = await case.penalty.post(
        f"/api/v1/violations/{vid}/dismiss", json={"reason": "证据不足"}, headers=case.county()
    )
    assert r.status_code == 200 and (r.json()["status"], r.json()["dismiss_reason"]) == (
        "dismissed",
        "证据不足",
    )
    assert await case.entries() == []


@pytest.mark.parametrize("target", ["gateway"], indirect=True)  # a rule table: one path suffices
@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"discovered_on": "2026-02-28"}, "INVALID_DATES"),
        ({"discovered_on": timedelta(days=1), "occurred_on": timedelta(0)}, "DATE_IN_FUTURE"),
        ({"decided_on": "2026-03-04"}, "DECIDED_BEFORE_DISCOVERY"),
        ({"decided_on": timedelta(days=1)}, "DATE_IN_FUTURE"),
        ({"kind": "laziness"}, "VALIDATION_FAILED"),
        ({"evidence": [{"name": "x", "sha256": "XYZ"}]}, "VALIDATION_FAILED"),
    ],
)
async def test_rejections(case: Case, change: dict[str, Any], code: str) -> None:
    r = await case.violation(multiplier="1", **days_from_today(change))
    assert r.status_code == 422 and r.json()["code"] == code, r.text


async def test_decided_on_the_day_of_discovery_or_today(case: Case) -> None:
    assert (await case.violation(multiplier="1", decided_on="2026-03-05")).status_code == 201
    assert (await case.violation(multiplier="1", decided_on=str(business_day()))).status_code == 201


async def test_who_reports_and_who_sees(case: Case) -> None:
    t = case.tokens
    assert (await case.violation(who=TOWNSHIP, multiplier="1")).status_code == 403  # only the county confirms
    assert (await case.violation(who=("township_official", "530102002"))).status_code == 404
    assert (await case.violation(who=("county_official", "530103"))).status_code == 404
    for role, region in (("auditor", "53"), ("prefecture_official", "5301"), ("contractor", "530102")):
        assert (await case.violation(who=(role, region))).status_code == 403
    v = await case.confirmed()
    url = f"/api/v1/violations/{v['id']}"
    for headers, status in (
        (case.county(), 200),
        (t.headers("auditor", "53"), 200),
        (t.headers(*TOWNSHIP), 200),
        (t.headers("township_official", "530102002"), 404),
        (t.headers("county_official", "530103"), 404),
        (case.world.h, 200),
        (t.headers("contractor", "530102", org_id="999999"), 404),
        (t.headers("worker", "530102001001", sub="1"), 403),
    ):
        assert (await case.penalty.get(url, headers=headers)).status_code == status, headers
    assert (
        await case.penalty.post(f"{url}/confirm", json={"multiplier": "1"}, headers=t.headers(*TOWNSHIP))
    ).status_code == 403
    listed = await case.penalty.get("/api/v1/violations", headers=case.world.h)
    assert [x["id"] for x in listed.json()["items"]] == [v["id"]]
    stranger = await case.penalty.get(
        "/api/v1/violations", headers=t.headers("contractor", "530102", org_id="999999")
    )
    assert stranger.json()["items"] == []
    other = t.headers("county_official", "530103")
    assert (
        await case.penalty.get("/api/v1/violations", params={"region": "530102"}, headers=other)
    ).status_code == 404


async def test_subsidy_standard_is_the_base_where_the_contract_states_one(case: Case, engine: Any) -> None:
    from sqlalchemy import update

    from services.common.models import Contract

    post = {"posting_level": "village", "region_code": "530102001001", "count": 2, "monthly_wage": "2850.00"}
    posts = [{**post, "subsidy_standard": "2000.00"}]
    async with engine.begin() as conn:
        await conn.execute(update(Contract).where(Contract.id == case.contract).values(posts=posts))
    v = await case.confirmed("1.5")
    assert (v["base"], v["amount"]) == ("2000.00", "3000.00")


async def test_a_terminated_contracts_dispatch_is_still_recorded(case: Case) -> None:
    r = await case.world.api.post(
        f"/api/v1/contracts/{case.contract}/terminate",
        json={"reason": "违约", "serious": False},
        headers=case.county(),
    )
    assert r.status_code == 200
    assert (await case.confirmed())["status"] == "confirmed"


@pytest.mark.parametrize("target", ["gateway"], indirect=True)  # a rule table: one path suffices
@pytest.mark.parametrize(
    ("falsifications", "serious", "recommended"), [(2, False, False), (3, False, True), (1, True, True)]
)
async def test_escalation(case: Case, falsifications: int, serious: bool, recommended: bool) -> None:
    for n in range(falsifications):
        await case.confirmed(serious_social_impact=serious and n == 0)
    await case.confirmed(kind="carelessness")
    r = await case.penalty.get(f"/api/v1/violation-summary/{case.contract}", headers=case.county())
    assert r.json()["by_kind"] == {
        "falsification": falsifications,
        "carelessness": 1,
        "improper_operation": 0,
    }
    assert r.json()["termination_recommended"] is recommended


async def test_escalation_counts_twelve_months(case: Case) -> None:
    for _ in range(3):
        await case.confirmed(decided_on="2026-03-05")
    url = f"/api/v1/violation-summary/{case.contract}"
    on_the_anniversary = await case.penalty.get(url, params={"as_of": "2027-03-05"}, headers=case.county())
    assert on_the_anniversary.json()["termination_recommended"] is True
    day_after = await case.penalty.get(url, params={"as_of": "2027-03-06"}, headers=case.county())
    assert (day_after.json()["by_kind"]["falsification"], day_after.json()["termination_recommended"]) == (
        0,
        False,
    )


async def _changes_of(engine: AsyncEngine, violation_id: int) -> tuple[list[tuple[str, Any]], list[str]]:
    async with engine.connect() as conn:
        events = (
            await conn.execute(
                text(
                    "SELECT type, data FROM events WHERE resource = 'violation' AND resource_id = :id "
                    "ORDER BY id"
                ),
                {"id": str(violation_id)},
            )
        ).all()
        audit = (
            await conn.execute(
                text("SELECT action FROM audit_events WHERE resource = 'violation' AND resource_id = :id"),
                {"id": str(violation_id)},
            )
        ).scalars()
        return [(t, d) for t, d in events], list(audit)


async def test_a_confirmation_writes_its_event_and_audit_row_once_with_the_chained_seq(
    case: Case, engine: AsyncEngine
) -> None:
    """The chaining statement writes the audit row and the event itself, the event's ledger_seq filled
    in by the database: the contract's first entry (its head made, the statement run again), a second
    at once, and a reported violation confirmed later all come out once and equal to the answer."""
    first = await case.confirmed("1")
    second = await case.confirmed("2")
    reported = (await case.violation(who=TOWNSHIP)).json()
    third = await case.penalty.post(
        f"/api/v1/violations/{reported['id']}/confirm", json={"multiplier": "3"}, headers=case.county()
    )
    assert third.status_code == 200, third.text
    assert [first["ledger_seq"], second["ledger_seq"], third.json()["ledger_seq"]] == [1, 2, 3]
    for answer in (first, second):
        events, audit = await _changes_of(engine, answer["id"])
        assert events == [("violation.confirmed", answer)] and audit == ["confirmed"]
    events, audit = await _changes_of(engine, reported["id"])
    assert events == [("violation.reported", reported), ("violation.confirmed", third.json())]
    assert sorted(audit) == ["confirmed", "reported"]
