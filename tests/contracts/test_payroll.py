"""Payroll records and the compliance report: the due date (15th of the following month) at the 15th and
the 16th, the agreed wage at and a fen below it, social insurance, and who records and who reads."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Tokens
from tests.contracts.conftest import World
from tests.contracts.test_contracts import COUNTY

PAID = {"gross_wage": "2850.00", "paid_on": "2026-02-10", "social_insurance_paid": True}


async def _dispatched(world: World) -> int:
    r = await world.dispatch(await world.person())
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _put(
    world: World, dispatch: int, month: str, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await world.api.put(
        f"/api/v1/dispatches/{dispatch}/payroll/{month}", json=body, headers={**world.h, **headers}
    )


async def _report(world: World, tokens: Tokens, as_of: str, **params: str) -> dict[str, Any]:
    r = await world.api.get(
        "/api/v1/payroll-compliance",
        params={"month": "2026-01", "as_of": as_of, **params},
        headers=tokens.headers(*COUNTY),
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_record_replace_and_read_back(world: World, tokens: Tokens) -> None:
    d = await _dispatched(world)
    first = await _put(world, d, "2026-01", PAID)
    assert first.status_code == 201 and first.headers["ETag"] == '"1"'
    assert first.json() | {"updated_at": None} == {
        "dispatch_id": d, "month": "2026-01", "gross_wage": "2850.00", "paid_on": "2026-02-10",
        "social_insurance_paid": True, "version": 1, "updated_at": None,
    }  # fmt: skip
    stale = await _put(world, d, "2026-01", {**PAID, "gross_wage": "2900.00"}, **{"If-Match": '"7"'})
    assert stale.status_code == 412
    replaced = await _put(world, d, "2026-01", {**PAID, "gross_wage": "2900.00"}, **{"If-Match": '"1"'})
    assert replaced.status_code == 200 and replaced.json()["version"] == 2
    none_yet = await _put(world, d, "2026-02", PAID | {"paid_on": "2026-03-05"}, **{"If-Match": '"1"'})
    assert none_yet.status_code == 412
    records = await world.api.get(f"/api/v1/dispatches/{d}/payroll", headers=tokens.headers(*COUNTY))
    assert [(r["month"], r["gross_wage"]) for r in records.json()] == [("2026-01", "2900.00")]


@pytest.mark.parametrize("target", ["gateway"], indirect=True)  # a rule table: one path suffices
@pytest.mark.parametrize(
    ("month", "change", "code"),
    [
        ("2025-12", {}, "MONTH_OUTSIDE_DISPATCH"),  # the dispatch starts 2026-01-01
        ("2026-01", {"paid_on": "2025-12-31"}, "PAID_BEFORE_MONTH"),
        ("2026-01", {"paid_on": "2099-01-01"}, "PAID_ON_IN_FUTURE"),
        ("2026-13", {}, "INVALID_MONTH"),
        ("2026-01", {"gross_wage": "-1.00"}, "VALIDATION_FAILED"),
        ("2026-01", {"gross_wage": "1.005"}, "VALIDATION_FAILED"),
    ],
)
async def test_record_rejections(world: World, month: str, change: dict[str, Any], code: str) -> None:
    r = await _put(world, await _dispatched(world), month, {**PAID, **change})
    assert r.status_code == 422 and r.json()["code"] == code, r.text


async def test_a_month_after_the_dispatch_ended_is_refused(world: World) -> None:
    d = await _dispatched(world)
    await world.api.post(f"/api/v1/dispatches/{d}/end", json={"end_date": "2026-01-31", "reason": "resigned"},
                         headers=world.h)  # fmt: skip
    assert (await _put(world, d, "2026-01", PAID)).status_code == 201
    r = await _put(world, d, "2026-02", {**PAID, "paid_on": "2026-03-01"})
    assert r.json()["code"] == "MONTH_OUTSIDE_DISPATCH"


async def test_due_on_the_15th_missing_from_the_16th(world: World, tokens: Tokens) -> None:
    d = await _dispatched(world)
    on_15th = await _report(world, tokens, "2026-02-15")
    assert on_15th["deadline"] == "2026-02-15"
    assert [(i["dispatch_id"], i["flags"]) for i in on_15th["items"]] == [(d, [])]
    on_16th = await _report(world, tokens, "2026-02-16")
    assert [(i["dispatch_id"], i["flags"]) for i in on_16th["items"]] == [(d, ["PAYROLL_MISSING"])]
    assert on_16th["counts"] == {"dispatches": 1, "compliant": 0, "payroll_missing": 1, "underpaid": 0,
                                 "social_insurance_missing": 0}  # fmt: skip
    await _put(world, d, "2026-01", {**PAID, "paid_on": "2026-02-20"})  # late, but recorded
    assert (await _report(world, tokens, "2026-02-16"))["items"][0]["flags"] == []


@pytest.mark.parametrize("target", ["gateway"], indirect=True)  # a rule table: one path suffices
@pytest.mark.parametrize(
    ("wage", "insured", "flags"),
    [
        ("2850.00", True, []),
        ("2850.01", True, []),
        ("2849.99", True, ["UNDERPAID"]),
        ("2850.00", False, ["SOCIAL_INSURANCE_MISSING"]),
        ("0.00", False, ["UNDERPAID", "SOCIAL_INSURANCE_MISSING"]),
    ],
)
async def test_flags(world: World, tokens: Tokens, wage: str, insured: bool, flags: list[str]) -> None:
    d = await _dispatched(world)
    assert (
        await _put(world, d, "2026-01", {**PAID, "gross_wage": wage, "social_insurance_paid": insured})
    ).status_code == 201
    item = (await _report(world, tokens, "2026-03-01"))["items"][0]
    assert (item["gross_wage"], item["flags"]) == (wage, flags)


async def test_who_records_and_who_reads(world: World, tokens: Tokens) -> None:
    d = await _dispatched(world)
    for role, region in (COUNTY, ("auditor", "53")):
        assert (await _put(world, d, "2026-01", PAID, **tokens.headers(role, region))).status_code == 403
    stranger = tokens.headers("contractor", "530102", org_id="999999")
    assert (await _put(world, d, "2026-01", PAID, **stranger)).status_code == 404
    assert (await _put(world, d, "2026-01", PAID)).status_code == 201
    url = "/api/v1/payroll-compliance"
    params = {"month": "2026-01", "as_of": "2026-03-01"}
    for headers, count in (
        (tokens.headers(*COUNTY), 1),
        (tokens.headers("prefecture_official", "5301"), 1),
        (tokens.headers("township_official", "530102002"), 0),
        (world.h, 1),
        (stranger, 0),
    ):
        r = await world.api.get(url, params=params, headers=headers)
        assert r.status_code == 200 and r.json()["counts"]["dispatches"] == count, headers
    other = await world.api.get(url, params={**params, "region": "530102"},
                                headers=tokens.headers("county_official", "530103"))  # fmt: skip
    assert other.status_code == 404
    worker = tokens.headers("worker", "530102001001", sub="1")
    assert (await world.api.get(url, params=params, headers=worker)).status_code == 403
    assert (await world.api.get(f"/api/v1/dispatches/{d}/payroll", headers=stranger)).status_code == 404
