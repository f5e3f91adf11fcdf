"""Contractors through the gateway and straight to contract_api: registration, the GB 32100 check,
eligibility and flags in the answer, roles and region scope, debarments and the public list."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.models import Debarment, Event
from tests.conftest import Tokens, business_day

BODY = {
    "name": "五华区社会工作服务中心",
    "uscc": "52530102MJ0123456E",
    "org_type": "social_organization",
    "registration_authority": "civil_affairs",
    "registered_on": "2020-05-01",
    "employees": 12,
    "social_insurance_enrollees": 10,
    "address": "昆明市五华区华山南路 1 号",
    "region_code": "530102",
}
OTHER = {**BODY, "name": "盘龙区救助服务公司", "uscc": "91530102MA6K00014A", "org_type": "enterprise",
         "registration_authority": "market_regulation", "region_code": "530103"}  # fmt: skip


async def _create(
    api: httpx.AsyncClient, tokens: Tokens, body: dict[str, object], region: str = "530102"
) -> int:
    r = await api.post("/api/v1/contractors", json=body, headers=tokens.headers("county_official", region))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def test_register_an_eligible_contractor(
    contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    r = await contract_api.post(
        "/api/v1/contractors",
        json={**BODY, "uscc": " 52530102mj0123456e "},
        headers=tokens.headers("county_official", "530102"),
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert r.headers["location"] == f"/api/v1/contractors/{out['id']}"
    assert out["uscc"] == "52530102MJ0123456E"
    assert (out["eligible"], out["ineligibility_reasons"], out["risk_flags"], out["debarred"]) == (
        True,
        [],
        [],
        False,
    )
    async with engine.connect() as conn:
        event = (await conn.execute(select(Event).where(Event.resource == "contractor"))).one()
    assert (event.type, event.resource_id, event.region) == ("contractor.created", str(out["id"]), "530102")
    again = await contract_api.get(
        f"/api/v1/contractors/{out['id']}", headers=tokens.headers("county_official", "530102")
    )
    assert again.status_code == 200 and again.json() == out


async def test_ineligible_and_flagged_contractor_is_recorded_with_its_reasons(
    contract_api: httpx.AsyncClient, tokens: Tokens
) -> None:
    shell = {
        **BODY,
        "org_type": "public_institution",
        "registration_authority": "establishment_office",
        "public_institution_category": "public_welfare_1",
        "employees": 0,
        "social_insurance_enrollees": 0,
        "address": " ",
        "registered_on": business_day().isoformat(),
        "uscc": "12530102431012345D",
    }
    r = await contract_api.post(
        "/api/v1/contractors",
        json=shell,
        headers={**tokens.headers("county_official", "530102"), "Accept-Language": "en"},
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["eligible"] is False
    assert [x["code"] for x in out["ineligibility_reasons"]] == ["PUBLIC_INSTITUTION_CATEGORY"]
    assert "公益二类" in out["ineligibility_reasons"][0]["message"]
    assert out["risk_flags"] == [
        "NO_EMPLOYEES", "NO_SOCIAL_INSURANCE_ENROLLEES", "REGISTERED_UNDER_6_MONTHS", "NO_ADDRESS",
    ]  # fmt: skip
    assert out["address"] is None


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"uscc": "52530102MJ0123456F"}, 422, "INVALID_USCC"),  # check character
        ({"uscc": "52530102MJ0123457E"}, 422, "INVALID_USCC"),  # organisation code check
        ({"uscc": "52530102MI0123456E"}, 422, "INVALID_USCC"),  # I is not in the alphabet
        ({"public_institution_category": "public_welfare_2"}, 422, "CATEGORY_MISMATCH"),
        ({"org_type": "public_institution"}, 422, "CATEGORY_MISMATCH"),
        ({"registered_on": "2999-01-01"}, 422, "DATE_IN_FUTURE"),
        ({"region_code": "5301"}, 422, "REGION_LEVEL_NOT_ALLOWED"),
        ({"region_code": "530102999"}, 404, "NOT_FOUND"),
        ({"region_code": "530103"}, 404, "NOT_FOUND"),  # another county: out of scope
        ({"employees": -1}, 422, "VALIDATION_FAILED"),
        ({"org_type": "charity"}, 422, "VALIDATION_FAILED"),
        ({"extra": 1}, 422, "VALIDATION_FAILED"),
    ],
)
async def test_registration_errors(
    contract_api: httpx.AsyncClient, tokens: Tokens, change: dict[str, object], status: int, code: str
) -> None:
    r = await contract_api.post(
        "/api/v1/contractors", json={**BODY, **change}, headers=tokens.headers("county_official", "530102")
    )
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_code_is_recorded_once(contract_api: httpx.AsyncClient, tokens: Tokens) -> None:
    await _create(contract_api, tokens, BODY)
    r = await contract_api.post(
        "/api/v1/contractors",
        json={**BODY, "name": "另一名称"},
        headers=tokens.headers("province_admin", "53"),
    )
    assert r.status_code == 409 and r.json()["code"] == "CONTRACTOR_EXISTS"


@pytest.mark.parametrize(
    ("role", "region", "status"),
    [
        ("province_admin", "53", 201),
        ("county_official", "530102", 201),
        ("prefecture_official", "5301", 403),
        ("county_government", "530102", 403),
        ("township_official", "530102001", 403),
        ("finance_official", "53", 403),
        ("auditor", "53", 403),
        ("contractor", "530102", 403),
        ("worker", "530102", 403),
    ],
)
async def test_who_may_register(
    contract_api: httpx.AsyncClient, tokens: Tokens, role: str, region: str, status: int
) -> None:
    r = await contract_api.post(
        "/api/v1/contractors", json=BODY, headers=tokens.headers(role, region, org_id="1")
    )
    assert r.status_code == status, r.text


async def test_no_token_is_401(contract_api: httpx.AsyncClient) -> None:
    assert (await contract_api.post("/api/v1/contractors", json=BODY)).status_code == 401
    assert (await contract_api.get("/api/v1/contractors/1")).status_code == 401


async def test_who_may_read_and_the_region_scope(contract_api: httpx.AsyncClient, tokens: Tokens) -> None:
    mine = await _create(contract_api, tokens, BODY)
    theirs = await _create(contract_api, tokens, OTHER, region="530103")
    cases = [
        (tokens.headers("county_official", "530102"), mine, 200),
        (tokens.headers("county_official", "530102"), theirs, 404),  # another county
        (tokens.headers("township_official", "530102001"), mine, 404),  # registered above the township
        (tokens.headers("prefecture_official", "5301"), theirs, 200),
        (tokens.headers("auditor", "53"), mine, 200),
        (tokens.headers("prefecture_official", "5303"), mine, 404),  # another prefecture
        (tokens.headers("contractor", "530102", org_id=str(mine)), mine, 200),  # its own record
        (tokens.headers("contractor", "530102", org_id=str(mine)), theirs, 404),  # never another's
        (tokens.headers("worker", "530102"), mine, 403),
        (tokens.headers("service", "53", scope="contracts:read"), mine, 200),
        (tokens.headers("service", "53", scope="staffing:read"), mine, 403),
        (tokens.headers(), 999_999, 404),
    ]
    for headers, contractor_id, status in cases:
        r = await contract_api.get(f"/api/v1/contractors/{contractor_id}", headers=headers)
        assert r.status_code == status, (headers, contractor_id, r.text)
        debarments = await contract_api.get(
            f"/api/v1/contractors/{contractor_id}/debarments", headers=headers
        )
        assert debarments.status_code == status


async def test_lists_are_scoped(contract_api: httpx.AsyncClient, tokens: Tokens) -> None:
    mine = await _create(contract_api, tokens, BODY)
    theirs = await _create(contract_api, tokens, OTHER, region="530103")

    async def ids(headers: dict[str, str], **params: str) -> list[int] | int:
        r = await contract_api.get("/api/v1/contractors", params=params, headers=headers)
        return [c["id"] for c in r.json()["items"]] if r.status_code == 200 else r.status_code

    assert await ids(tokens.headers()) == [mine, theirs]
    assert await ids(tokens.headers(), region="530103") == [theirs]
    assert await ids(tokens.headers("county_official", "530102")) == [mine]
    assert await ids(tokens.headers("county_official", "530102"), region="5301") == 404  # an ancestor
    assert await ids(tokens.headers("contractor", "530102", org_id=str(theirs)), region="530102") == []
    assert await ids(tokens.headers("contractor", "530103", org_id=str(theirs))) == [theirs]
    assert await ids(tokens.headers("contractor", "530103", org_id="not-a-number")) == []
    assert await ids(tokens.headers("worker", "530102")) == 403


async def test_debarments_and_the_public_list(
    contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    barred = await _create(contract_api, tokens, BODY)
    await _create(contract_api, tokens, OTHER, region="530103")
    today = business_day()
    async with engine.begin() as conn:  # until the contract lifecycle makes them by a serious termination
        await conn.execute(
            insert(Debarment),
            [
                {"contractor_id": barred, "region_code": "530102", "reason": "情节严重，解除合同",
                 "since": today - timedelta(days=400), "until": today - timedelta(days=35)},  # over
                {"contractor_id": barred, "region_code": "530102", "reason": "再次严重违约",
                 "since": today - timedelta(days=10), "until": today + timedelta(days=1)},  # ends tomorrow
            ],
        )  # fmt: skip
    official = tokens.headers("county_official", "530102")
    listed = (await contract_api.get(f"/api/v1/contractors/{barred}/debarments", headers=official)).json()
    assert [(d["reason"], d["in_force"]) for d in listed] == [
        ("情节严重，解除合同", False),
        ("再次严重违约", True),
    ]
    assert (await contract_api.get(f"/api/v1/contractors/{barred}", headers=official)).json()[
        "debarred"
    ] is True
    page = (await contract_api.get("/api/v1/contractors", headers=tokens.headers())).json()["items"]
    assert [c["debarred"] for c in page] == [True, False]

    public = await contract_api.get("/api/v1/public/debarments")  # no token
    assert public.status_code == 200, public.text
    assert public.headers["cache-control"] == "public, max-age=60"
    assert public.json() == {
        "items": [
            {"contractor_name": BODY["name"], "uscc": BODY["uscc"], "region_code": "530102",
             "reason": "再次严重违约", "since": (today - timedelta(days=10)).isoformat(),
             "until": (today + timedelta(days=1)).isoformat()}
        ]
    }  # fmt: skip
    cached = await contract_api.get(
        "/api/v1/public/debarments", headers={"If-None-Match": public.headers["etag"]}
    )
    assert cached.status_code == 304 and cached.content == b""
    stale = await contract_api.get("/api/v1/public/debarments", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200
