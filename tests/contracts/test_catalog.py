"""The service catalog: seeded from the notice with its negative list, managed by the province."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Tokens

NEGATIVE = {
    "administrative_affairs",
    "purchaser_staff_hiring",
    "labor_dispatch_employment",
    "public_welfare_posts",
}


async def test_seeded_catalog_and_negative_list(contract_api: httpx.AsyncClient, tokens: Tokens) -> None:
    r = await contract_api.get(
        "/api/v1/service-catalog", headers=tokens.headers("township_official", "530102001")
    )
    assert r.status_code == 200
    items = {i["code"]: i for i in r.json()}
    assert {c for c, i in items.items() if not i["purchasable"]} == NEGATIVE
    assert all(i["reason"] and "§三(三)" in i["reason"] for c, i in items.items() if c in NEGATIVE)
    levels = {i["posting_level"] for i in items.values() if i["purchasable"]}
    assert {"county", "township", "village", "institution"} <= levels
    only = await contract_api.get(
        "/api/v1/service-catalog",
        params={"purchasable": "false"},
        headers=tokens.headers("contractor", "530102", org_id="1"),
    )
    assert {i["code"] for i in only.json()} == NEGATIVE


@pytest.mark.parametrize(
    ("role", "region", "status"),
    [("province_admin", "53", 201), ("county_official", "530102", 403), ("auditor", "53", 403)],
)
async def test_only_the_province_adds_items(
    contract_api: httpx.AsyncClient, tokens: Tokens, role: str, region: str, status: int
) -> None:
    body = {
        "code": "elderly_visits",
        "name_zh": "困难老人探访服务",
        "name_en": "Visits to needy elders",
        "purchasable": True,
    }
    r = await contract_api.post("/api/v1/service-catalog", json=body, headers=tokens.headers(role, region))
    assert r.status_code == status, r.text
    if status == 201:
        again = await contract_api.post(
            "/api/v1/service-catalog", json=body, headers=tokens.headers(role, region)
        )
        assert again.status_code == 409 and again.json()["code"] == "CATALOG_ITEM_EXISTS"


async def test_an_excluded_item_needs_its_reason(contract_api: httpx.AsyncClient, tokens: Tokens) -> None:
    body = {"code": "guard_posts", "name_zh": "门卫岗位", "name_en": "Guard posts", "purchasable": False}
    r = await contract_api.post("/api/v1/service-catalog", json=body, headers=tokens.headers())
    assert r.status_code == 422 and r.json()["code"] == "REASON_REQUIRED"
    bad = await contract_api.post(
        "/api/v1/service-catalog", json={**body, "code": "Bad Code"}, headers=tokens.headers()
    )
    assert bad.status_code == 422 and bad.json()["code"] == "VALIDATION_FAILED"
    assert (
        await contract_api.get("/api/v1/service-catalog", headers=tokens.headers("worker", "530102"))
    ).status_code == 403
