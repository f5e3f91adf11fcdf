"""Dispatch: every rejection of contracts.md *Dispatch*, the staffing rules it shares (eligibility, the
village quota), ending a dispatch, and that a dispatch made through the API shows at once in quotas,
eligibility and work logs."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Tokens, business_day
from tests.contracts.conftest import DECLARED, START, VILLAGE, World, make_world
from tests.contracts.test_contracts import COUNTY, _act


async def test_a_dispatch_counts_at_once_everywhere(world: World, tokens: Tokens) -> None:
    api, county = world.staffing, tokens.headers(*COUNTY)
    first = await world.person()
    r = await world.dispatch(first)
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["Location"] == f"/api/v1/dispatches/{created['id']}"
    assert (created["monthly_wage"], created["end_date"], created["declarations"]) == (
        "2850.00",
        None,
        DECLARED,
    )
    quota = (await api.get(f"/api/v1/quotas/{VILLAGE}", params={"as_of": "2026-01"}, headers=county)).json()
    assert (quota["dispatched"], quota["allowed_max"]) == (1, 2)
    summary = (
        await api.get("/api/v1/quota-summary/530102001", params={"as_of": "2026-01"}, headers=county)
    ).json()
    assert summary["village_coverage"]["covered"] >= 1
    check = {"person_id": first, "on_date": START, "education": "junior_high", **DECLARED}
    eligibility = (await api.post("/api/v1/assistant-eligibility", json=check, headers=county)).json()
    assert [x["code"] for x in eligibility["reasons"]] == ["ALREADY_DISPATCHED"]
    worker = tokens.headers("worker", VILLAGE, sub=str(first), org_id=str(world.contractor))
    log = {
        "client_id": str(uuid.uuid4()),
        "dispatch_id": created["id"],
        "duty_code": "policy_consultation",
        "date": "2026-01-05",
    }
    posted = await api.post("/api/v1/work-logs", json=log, headers=worker)
    assert posted.status_code == 201, posted.text
    own = await world.api.get(f"/api/v1/dispatches/{created['id']}", headers=worker)
    assert own.status_code == 200 and own.json() == created


async def test_posts_and_one_dispatch_at_a_time(world: World) -> None:
    a, b, c = [await world.person() for _ in range(3)]
    assert (await world.dispatch(a)).status_code == 201
    again = await world.dispatch(a, posting_level="township", region_code="530102001", declarations=None)
    assert again.status_code == 422 and again.json()["code"] == "ALREADY_DISPATCHED"
    later = await world.dispatch(a, start_date="2026-06-01")  # overlaps the open one
    assert later.json()["code"] == "ALREADY_DISPATCHED"
    second = await world.dispatch(b)
    assert second.status_code == 201
    full = await world.dispatch(c)
    assert full.status_code == 422 and full.json()["code"] == "POSTS_EXHAUSTED"
    ended = await world.api.post(
        f"/api/v1/dispatches/{second.json()['id']}/end",
        json={"end_date": "2026-03-31", "reason": "resigned"},
        headers=world.h,
    )
    assert ended.status_code == 200 and ended.json()["end_reason"] == "resigned"
    twice = await world.api.post(
        f"/api/v1/dispatches/{second.json()['id']}/end",
        json={"end_date": "2026-04-30", "reason": "resigned"},
        headers=world.h,
    )
    assert twice.status_code == 409 and twice.json()["code"] == "DISPATCH_ENDED"
    still_taken = await world.dispatch(c, start_date="2026-03-31")  # b's last day, inclusive
    assert still_taken.json()["code"] == "POSTS_EXHAUSTED"
    assert (await world.dispatch(c, start_date="2026-04-01")).status_code == 201
    township = await world.dispatch(b, posting_level="township", region_code="530102001", declarations=None,
                                    start_date="2026-04-01")  # fmt: skip
    assert township.status_code == 201, township.text  # b's village dispatch ended on 03-31


async def test_the_village_ceiling(world: World) -> None:
    await world.population(4_999)  # below 5,000: one assistant at most
    a, b = await world.person(), await world.person()
    assert (await world.dispatch(a)).status_code == 201
    r = await world.dispatch(b)
    assert r.status_code == 422 and r.json()["code"] == "QUOTA_EXCEEDED"
    await world.population(5_000)
    assert (await world.dispatch(b)).status_code == 201


@pytest.mark.parametrize("target", ["gateway"], indirect=True)  # a rule table: one path suffices
@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"labor_contract_signed_on": None}, "LABOR_CONTRACT_MISSING"),
        ({"labor_contract_signed_on": "2026-01-02"}, "LABOR_CONTRACT_MISSING"),
        ({"declarations": None}, "DECLARATIONS_REQUIRED"),
        ({"region_code": "530102001002"}, "POSTS_EXHAUSTED"),  # no post bought there
        ({"region_code": "530103001001"}, "POSTS_EXHAUSTED"),  # another county
        ({"posting_level": "county", "region_code": "530102", "declarations": None}, "POSTS_EXHAUSTED"),
        ({"posting_level": "township"}, "POSTING_LEVEL_MISMATCH"),
        ({"declarations": {**DECLARED, "has_other_job": True}}, "ASSISTANT_INELIGIBLE"),
        ({"declarations": {**DECLARED, "health_confirmed": False}}, "ASSISTANT_INELIGIBLE"),
        ({"monthly_wage": "0.00"}, "VALIDATION_FAILED"),
    ],
)
async def test_rejections(world: World, change: dict[str, Any], code: str) -> None:
    r = await world.dispatch(await world.person(), **change)
    assert r.status_code == 422 and r.json()["code"] == code, r.text


async def test_labour_contract_signed_on_the_first_day_is_enough(world: World) -> None:
    r = await world.dispatch(await world.person(), labor_contract_signed_on=START)
    assert r.status_code == 201, r.text


async def test_assistant_conditions_at_their_boundaries(world: World) -> None:
    # 50 until the day before the 51st birthday; 18 from the 18th birthday; 初中 included.
    start = date(2026, 1, 1)
    fifty = await world.person(born=date(1975, 1, 2))  # 51 on 2026-01-02
    r = await world.dispatch(fifty)
    assert r.status_code == 201, r.text
    await world.api.post(f"/api/v1/dispatches/{r.json()['id']}/end",
                         json={"end_date": START, "reason": "resigned"}, headers=world.h)  # fmt: skip
    too_old = await world.person(born=date(1975, 1, 1))  # 51 on the first day
    r = await world.dispatch(too_old, start_date="2026-01-02")
    assert r.json()["code"] == "ASSISTANT_INELIGIBLE"
    assert [e["code"] for e in r.json()["errors"]] == ["AGE_ABOVE_MAX"]
    primary = await world.person(education="primary")
    r = await world.dispatch(primary, start_date="2026-01-02")
    assert [e["code"] for e in r.json()["errors"]] == ["EDUCATION_TOO_LOW"]
    young = await world.person(born=start.replace(year=2008) + timedelta(days=2))  # 18 on 2026-01-03
    r = await world.dispatch(young, start_date="2026-01-02")
    assert [e["code"] for e in r.json()["errors"]] == ["AGE_BELOW_MIN"]
    assert (await world.dispatch(young, start_date="2026-01-03")).status_code == 201


async def test_established_staff_cannot_be_dispatched(world: World, tokens: Tokens) -> None:
    person = await world.person()
    post = await world.staffing.post(
        "/api/v1/establishment-posts",
        json={"person_id": person, "region_code": "530102001", "since": "2025-01-01"},
        headers=tokens.headers(*COUNTY),
    )
    assert post.status_code == 201, post.text
    r = await world.dispatch(person, posting_level="township", region_code="530102001", declarations=None)
    assert r.status_code == 422 and r.json()["code"] == "ON_ESTABLISHMENT_ROSTER"


@pytest.mark.parametrize("target", ["gateway"], indirect=True)  # a rule table: one path suffices
@pytest.mark.parametrize("state", ["authorized", "acknowledged", "suspended", "completed", "terminated"])
async def test_only_an_active_contract_dispatches(
    contract_api: httpx.AsyncClient,
    staffing_api: httpx.AsyncClient,
    tokens: Tokens,
    engine: AsyncEngine,
    state: str,
) -> None:
    w = await make_world(contract_api, staffing_api, tokens, engine, state)
    r = await w.dispatch(await w.person())
    assert r.status_code == 422 and r.json()["code"] == "CONTRACT_NOT_ACTIVE"


async def test_ending_the_contract_ends_its_dispatches(world: World, tokens: Tokens) -> None:
    person = await world.person()
    d = (await world.dispatch(person)).json()
    r = await _act(world.api, tokens, world.contract, world.contractor, "terminate")
    assert r.status_code == 200
    ended = (await world.api.get(f"/api/v1/dispatches/{d['id']}", headers=world.h)).json()
    today = business_day()
    assert (ended["end_date"], ended["end_reason"]) == (str(today), "contract_ended")


async def test_who_dispatches_and_who_sees(world: World, tokens: Tokens, engine: AsyncEngine) -> None:
    api = world.api
    person = await world.person()
    body = world.body(person)
    for role, region in (COUNTY, ("township_official", "530102001"), ("auditor", "53")):
        assert (
            await api.post("/api/v1/dispatches", json=body, headers=tokens.headers(role, region))
        ).status_code == 403
    assert (await api.post("/api/v1/dispatches", json=body)).status_code == 401
    stranger = tokens.headers("contractor", "530102", org_id="999999")
    assert (await api.post("/api/v1/dispatches", json=body, headers=stranger)).status_code == 404
    d = (await world.dispatch(person)).json()
    url = f"/api/v1/dispatches/{d['id']}"
    for headers, status in (
        (tokens.headers(*COUNTY), 200),
        (tokens.headers("township_official", "530102001"), 200),
        (tokens.headers("township_official", "530102002"), 404),
        (tokens.headers("county_official", "530103"), 404),
        (tokens.headers("auditor", "53"), 200),
        (stranger, 404),
        (tokens.headers("worker", VILLAGE, sub=str(person)), 200),
        (tokens.headers("worker", VILLAGE, sub=str(person + 1)), 404),
    ):
        assert (await api.get(url, headers=headers)).status_code == status, headers
    listed = await api.get("/api/v1/dispatches", headers=world.h)
    assert [x["id"] for x in listed.json()["items"]] == [d["id"]]
    assert (await api.get("/api/v1/dispatches", headers=stranger)).json()["items"] == []
    other_county = await api.get("/api/v1/dispatches", params={"region": "530102"},
                                 headers=tokens.headers("county_official", "530103"))  # fmt: skip
    assert other_county.status_code == 404
    mine = await api.get("/api/v1/dispatches", params={"ongoing": "true"},
                         headers=tokens.headers("worker", VILLAGE, sub=str(person)))  # fmt: skip
    assert [x["id"] for x in mine.json()["items"]] == [d["id"]]
    end = {"end_date": "2026-02-01", "reason": "removed"}
    assert (
        await api.post(f"{url}/end", json=end, headers=tokens.headers("county_official", "530103"))
    ).status_code == 404
    assert (
        await api.post(f"{url}/end", json=end, headers=tokens.headers("worker", VILLAGE, sub=str(person)))
    ).status_code == 403
    bad = await api.post(
        f"{url}/end", json={**end, "end_date": "2025-12-31"}, headers=tokens.headers(*COUNTY)
    )
    assert bad.json()["code"] == "INVALID_PERIOD"
    assert (await api.post(f"{url}/end", json=end, headers=tokens.headers(*COUNTY))).status_code == 200


async def test_concurrent_dispatches_never_overfill(world: World) -> None:
    people = [await world.person() for _ in range(8)]
    answers = await asyncio.gather(*(world.dispatch(p) for p in people))
    assert sorted(r.status_code for r in answers) == [201, 201, *[422] * 6]
    assert {r.json()["code"] for r in answers if r.status_code == 422} == {"POSTS_EXHAUSTED"}
