"""Persons (PII at rest and in answers), the established roster, assistant eligibility."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.models import Event, Person
from tests.conftest import Tokens
from tests.staffing.factories import contract, dispatch

ID_A = "530102197603150029"  # born 1976-03-15
ID_B = "530627200802290058"  # born 2008-02-29
BODY = {
    "name": "张三",
    "id_number": ID_A,
    "region_code": "530102001001",
    "education": "junior_high",
    "phone": "13812345678",
}


async def _create(
    api: httpx.AsyncClient, tokens: Tokens, body: dict[str, str] | None = None
) -> dict[str, object]:
    r = await api.post(
        "/api/v1/persons", json=body or BODY, headers=tokens.headers("county_official", "530102")
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_pii_is_encrypted_and_masked(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    created = await _create(api, tokens)
    assert created["id_number"] == ID_A and created["phone"] == "13812345678"  # own county sees it whole
    assert created["birth_date"] == "1976-03-15" and created["gender"] == "female"
    pid = created["id"]
    for role, region in [
        ("prefecture_official", "5301"),
        ("province_admin", "53"),
        ("auditor", "53"),
        ("township_official", "530102001"),
        ("county_official", "530102"),
    ]:
        r = await api.get(f"/api/v1/persons/{pid}", headers=tokens.headers(role, region))
        assert r.status_code == 200, (role, r.text)
        if role == "county_official":
            assert r.json()["id_number"] == ID_A
        else:
            assert r.json()["id_number"] == "530102********0029" and r.json()["phone"] == "138****5678", role
    assert (
        await api.get(f"/api/v1/persons/{pid}", headers=tokens.headers("county_official", "530103"))
    ).status_code == 404
    assert (
        await api.get(f"/api/v1/persons/{pid}", headers=tokens.headers("township_official", "530102002"))
    ).status_code == 404
    async with engine.connect() as conn:
        row = (await conn.execute(select(Person))).one()
        events = (await conn.execute(select(Event.data))).scalars().all()
    assert ID_A.encode() not in row.id_number_encrypted and row.id_number_masked == "530102********0029"
    assert b"13812345678" not in (row.phone_encrypted or b"")
    assert all(ID_A not in str(e) and "张三" not in str(e) for e in events)


async def test_person_rules(api: httpx.AsyncClient, tokens: Tokens) -> None:
    await _create(api, tokens)
    county = tokens.headers("county_official", "530102")
    dup = await api.post("/api/v1/persons", json={**BODY, "id_number": ID_A.lower()}, headers=county)
    assert dup.status_code == 409 and dup.json()["code"] == "PERSON_EXISTS"
    bad = await api.post("/api/v1/persons", json={**BODY, "id_number": "530102197603150028"}, headers=county)
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_ID_NUMBER"
    assert bad.json()["errors"][0]["field"] == "id_number"
    other = await api.post(
        "/api/v1/persons", json={**BODY, "id_number": ID_B, "region_code": "530103"}, headers=county
    )
    assert other.status_code == 404
    high = await api.post(
        "/api/v1/persons", json={**BODY, "id_number": ID_B, "region_code": "5301"}, headers=tokens.headers()
    )
    assert high.status_code == 422 and high.json()["code"] == "REGION_LEVEL_NOT_ALLOWED"
    township = await api.post(
        "/api/v1/persons",
        json={**BODY, "id_number": ID_B},
        headers=tokens.headers("township_official", "530102001"),
    )
    assert township.status_code == 403


async def test_contractor_and_worker_see_their_own(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    contractor = tokens.headers("contractor", "530102", org_id="7", sub="org7")
    r = await api.post("/api/v1/persons", json={**BODY, "id_number": ID_B}, headers=contractor)
    assert r.status_code == 201
    mine = r.json()["id"]
    assert r.json()["id_number"] == "530627********0058"  # a contractor never sees it whole
    theirs = (await _create(api, tokens))["id"]
    assert (await api.get(f"/api/v1/persons/{mine}", headers=contractor)).status_code == 200
    assert (await api.get(f"/api/v1/persons/{theirs}", headers=contractor)).status_code == 404
    cid = await contract(engine, "530102", contractor_id=7)
    await dispatch(engine, cid, int(str(theirs)), "530102001001")
    assert (
        await api.get(f"/api/v1/persons/{theirs}", headers=contractor)
    ).status_code == 200  # it dispatched them
    other_org = tokens.headers("contractor", "530102", org_id="8")
    assert (await api.get(f"/api/v1/persons/{mine}", headers=other_org)).status_code == 404
    worker = tokens.headers("worker", "530102001001", sub=str(mine), org_id="7")
    assert (await api.get(f"/api/v1/persons/{mine}", headers=worker)).status_code == 200
    assert (await api.get(f"/api/v1/persons/{theirs}", headers=worker)).status_code == 404
    listed = (await api.get("/api/v1/persons", headers=contractor)).json()["items"]
    assert [p["id"] for p in listed] == sorted([mine, theirs])  # registered or dispatched by it
    assert [p["id"] for p in (await api.get("/api/v1/persons", headers=other_org)).json()["items"]] == []
    assert [p["id"] for p in (await api.get("/api/v1/persons", headers=worker)).json()["items"]] == [mine]


ELIGIBLE = {
    "education": "junior_high",
    "health_confirmed": True,
    "law_abiding_confirmed": True,
    "has_other_job": False,
}


@pytest.mark.parametrize(
    ("id_number", "on", "eligible", "age", "codes"),
    [
        (ID_A, "2027-03-14", True, 50, []),
        (ID_A, "2027-03-15", False, 51, ["AGE_ABOVE_MAX"]),
        (ID_B, "2026-02-28", False, 17, ["AGE_BELOW_MIN"]),
        (ID_B, "2026-03-01", True, 18, []),
        ("530102197603150028", "2026-01-01", False, None, ["INVALID_ID_NUMBER"]),
        ("not a number", "2026-01-01", False, None, ["INVALID_ID_NUMBER"]),
    ],
)
async def test_eligibility_acceptance(
    api: httpx.AsyncClient,
    tokens: Tokens,
    id_number: str,
    on: str,
    eligible: bool,
    age: int | None,
    codes: list[str],
) -> None:
    r = await api.post(
        "/api/v1/assistant-eligibility",
        json={**ELIGIBLE, "id_number": id_number, "on_date": on},
        headers=tokens.headers("county_official", "530102"),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["eligible"], r.json()["age"], [x["code"] for x in r.json()["reasons"]]) == (
        eligible,
        age,
        codes,
    )


async def test_every_failing_condition_is_listed(api: httpx.AsyncClient, tokens: Tokens) -> None:
    body = {
        "id_number": ID_A,
        "on_date": "2026-01-01",
        "education": "primary",
        "health_confirmed": False,
        "law_abiding_confirmed": False,
        "has_other_job": True,
    }
    r = await api.post(
        "/api/v1/assistant-eligibility", json=body, headers={**tokens.headers(), "Accept-Language": "en"}
    )
    codes = [x["code"] for x in r.json()["reasons"]]
    assert codes == [
        "EDUCATION_TOO_LOW",
        "HEALTH_NOT_CONFIRMED",
        "LAW_ABIDING_NOT_CONFIRMED",
        "HAS_OTHER_JOB",
    ]
    assert r.json()["reasons"][0]["message"] == "Education must be junior high or above"
    two = await api.post(
        "/api/v1/assistant-eligibility",
        json={
            **ELIGIBLE,
            "id_number": ID_A,
            "on_date": "2026-01-01",
            "education": "primary",
            "has_other_job": True,
        },
        headers=tokens.headers(),
    )
    assert [x["code"] for x in two.json()["reasons"]] == ["EDUCATION_TOO_LOW", "HAS_OTHER_JOB"]
    for education, ok in [
        ("none", False),
        ("primary", False),
        ("junior_high", True),
        ("secondary_vocational", True),
        ("postgraduate", True),
    ]:
        r = await api.post(
            "/api/v1/assistant-eligibility",
            json={**ELIGIBLE, "education": education, "id_number": ID_A, "on_date": "2026-01-01"},
            headers=tokens.headers(),
        )
        assert r.json()["eligible"] is ok, education


@pytest.mark.parametrize(
    "body",
    [
        {"on_date": "2026-01-01", **ELIGIBLE},  # neither person_id nor id_number
        {"id_number": ID_A, "person_id": 1, "on_date": "2026-01-01", **ELIGIBLE},
        {
            "id_number": ID_A,
            "education": "junior_high",
            "health_confirmed": True,
            "law_abiding_confirmed": True,
            "has_other_job": False,
        },  # no on_date
        {
            "id_number": ID_A,
            "on_date": "2026-01-01",
            "health_confirmed": True,
            "law_abiding_confirmed": True,
            "has_other_job": False,
        },  # no education
    ],
)
async def test_eligibility_missing_fields(
    api: httpx.AsyncClient, tokens: Tokens, body: dict[str, object]
) -> None:
    r = await api.post("/api/v1/assistant-eligibility", json=body, headers=tokens.headers())
    assert r.status_code == 422


async def test_roster_and_dispatch_exclude_each_other(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    county = tokens.headers("county_official", "530102")
    pid = int(str((await _create(api, tokens))["id"]))
    post = await api.post(
        "/api/v1/establishment-posts",
        json={"person_id": pid, "region_code": "530102001", "since": "2025-01-01"},
        headers=county,
    )
    assert post.status_code == 201, post.text
    again = await api.post(
        "/api/v1/establishment-posts",
        json={"person_id": pid, "region_code": "530102", "since": "2025-02-01"},
        headers=county,
    )
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_ON_ROSTER"
    check = {**ELIGIBLE, "person_id": pid, "on_date": "2025-06-01"}
    r = await api.post("/api/v1/assistant-eligibility", json=check, headers=county)
    assert [x["code"] for x in r.json()["reasons"]] == ["ON_ESTABLISHMENT_ROSTER"]
    ended = await api.post(
        f"/api/v1/establishment-posts/{post.json()['id']}/end", json={"until": "2025-06-30"}, headers=county
    )
    assert ended.json()["until"] == "2025-06-30"
    assert (await api.post("/api/v1/assistant-eligibility", json=check, headers=county)).json()[
        "eligible"
    ] is False
    after = await api.post(
        "/api/v1/assistant-eligibility", json={**check, "on_date": "2025-07-01"}, headers=county
    )
    assert after.json()["eligible"] is True
    cid = await contract(engine, "530102")
    await dispatch(engine, cid, pid, "530102001001", start=date(2025, 8, 1))
    dispatched = await api.post(
        "/api/v1/assistant-eligibility", json={**check, "on_date": "2025-08-01"}, headers=county
    )
    assert [x["code"] for x in dispatched.json()["reasons"]] == ["ALREADY_DISPATCHED"]
    blocked = await api.post(
        "/api/v1/establishment-posts",
        json={"person_id": pid, "region_code": "530102", "since": "2025-09-01"},
        headers=county,
    )
    assert blocked.status_code == 422 and blocked.json()["code"] == "ALREADY_DISPATCHED"
    village = await api.post(
        "/api/v1/establishment-posts",
        json={"person_id": pid, "region_code": "530102001001", "since": "2025-09-01"},
        headers=county,
    )
    assert village.json()["code"] == "REGION_LEVEL_NOT_ALLOWED"
    township = tokens.headers("township_official", "530102001")
    assert (
        await api.post(
            "/api/v1/establishment-posts",
            json={"person_id": pid, "region_code": "530102001", "since": "2025-09-01"},
            headers=township,
        )
    ).status_code == 403


async def test_suspended_contract_still_counts_terminated_does_not(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    pid = int(str((await _create(api, tokens))["id"]))
    check = {**ELIGIBLE, "person_id": pid, "on_date": "2025-03-01"}
    cid = await contract(engine, "530102", status="terminated")
    await dispatch(engine, cid, pid, "530102001001", end=date(2025, 6, 30))
    assert (await api.post("/api/v1/assistant-eligibility", json=check, headers=tokens.headers())).json()[
        "eligible"
    ] is True
    suspended = await contract(engine, "530102", status="suspended")
    await dispatch(engine, suspended, pid, "530102001001", start=date(2025, 7, 1), end=date(2025, 9, 1))
    on_last_day = {**check, "on_date": "2025-09-01"}
    r = await api.post("/api/v1/assistant-eligibility", json=on_last_day, headers=tokens.headers())
    assert [x["code"] for x in r.json()["reasons"]] == ["ALREADY_DISPATCHED"]  # end_date is inclusive
    day_after = await api.post(
        "/api/v1/assistant-eligibility", json={**check, "on_date": "2025-09-02"}, headers=tokens.headers()
    )
    assert day_after.json()["eligible"] is True


async def test_roster_read_back(api: httpx.AsyncClient, tokens: Tokens) -> None:
    county = tokens.headers("county_official", "530102")
    pid = int(str((await _create(api, tokens))["id"]))
    post = (
        await api.post(
            "/api/v1/establishment-posts",
            json={"person_id": pid, "region_code": "530102001", "since": "2025-01-01"},
            headers=county,
        )
    ).json()
    assert (
        await api.get(
            f"/api/v1/establishment-posts/{post['id']}", headers=tokens.headers("auditor", "530102")
        )
    ).status_code == 200
    assert (
        await api.get(
            f"/api/v1/establishment-posts/{post['id']}", headers=tokens.headers("county_official", "530103")
        )
    ).status_code == 404
    listed = (
        await api.get("/api/v1/establishment-posts", headers=tokens.headers("township_official", "530102001"))
    ).json()
    assert [p["id"] for p in listed["items"]] == [post["id"]]
    assert (
        await api.get("/api/v1/establishment-posts", params={"region": "5301"}, headers=county)
    ).status_code == 404
    assert (
        await api.get("/api/v1/establishment-posts", headers=tokens.headers("worker", "530102", org_id="1"))
    ).status_code == 403


async def test_registering_one_id_number_twice_at_once_is_one_person_and_one_409(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    """Both requests pass the route's check before either inserts; the unique constraint admits one,
    and the other hears PERSON_EXISTS as a later request would (it once was a 500)."""
    county = tokens.headers("county_official", "530102")
    answers = await asyncio.gather(
        *(api.post("/api/v1/persons", json=BODY, headers=county) for _ in range(8))
    )
    assert sorted(r.status_code for r in answers) == [201] + [409] * 7
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"PERSON_EXISTS"}
    async with engine.connect() as conn:
        assert len((await conn.execute(select(Person.id))).all()) == 1
