"""Purchase needs: raised by a township or county, lines checked against the catalog, the lifecycle
table walked pair by pair, roles and scope, optimistic concurrency."""

from __future__ import annotations

import httpx
import pytest

from services.contract_api.needs.rules import TRANSITIONS
from tests.conftest import Tokens

LINE = {"catalog_code": "village_assistance_services", "quantity": 24, "unit": "person_month",
        "posting_level": "village", "estimated_amount": "68400.00"}  # fmt: skip
SURVEY = {**LINE, "catalog_code": "household_survey_verification", "quantity": 1, "unit": "service",
          "posting_level": None, "estimated_amount": "12000.50"}  # fmt: skip
BODY = {"region_code": "530102001", "year": 2027, "items": [LINE, SURVEY],
        "justification": "辖区低保对象增加，需增配协理人员"}  # fmt: skip
TOWNSHIP = ("township_official", "530102001")
COUNTY = ("county_official", "530102")


async def _create(
    api: httpx.AsyncClient, tokens: Tokens, who: tuple[str, str] = TOWNSHIP
) -> dict[str, object]:
    r = await api.post("/api/v1/purchase-needs", json=BODY, headers=tokens.headers(*who, sub=who[0]))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_raise_a_need(contract_api: httpx.AsyncClient, tokens: Tokens) -> None:
    out = await _create(contract_api, tokens)
    assert (out["status"], out["county_code"], out["estimated_total"]) == ("draft", "530102", "80400.50")
    assert out["items"][0] == LINE and out["allowed_actions"] == ["submit"]
    read = await contract_api.get(f"/api/v1/purchase-needs/{out['id']}", headers=tokens.headers(*COUNTY))
    assert read.status_code == 200 and read.json() == out and read.headers["etag"] == '"1"'


@pytest.mark.parametrize(
    ("code", "reason"),
    [("public_welfare_posts", "negative list"), ("no_such_item", "unknown")],
)
async def test_lines_must_be_purchasable(
    contract_api: httpx.AsyncClient, tokens: Tokens, code: str, reason: str
) -> None:
    body = {**BODY, "items": [LINE, {**LINE, "catalog_code": code}]}
    r = await contract_api.post("/api/v1/purchase-needs", json=body, headers=tokens.headers(*TOWNSHIP))
    assert r.status_code == 422, reason
    problem = r.json()
    assert problem["code"] == "ITEM_NOT_PURCHASABLE"
    assert [e["field"] for e in problem["errors"]] == ["items[1].catalog_code"]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"region_code": "530102001001"}, 422, "REGION_LEVEL_NOT_ALLOWED"),  # a village
        ({"region_code": "530102002"}, 404, "NOT_FOUND"),  # another township
        ({"items": []}, 422, "VALIDATION_FAILED"),
        ({"items": [{**LINE, "estimated_amount": 68400.5}]}, 422, "VALIDATION_FAILED"),  # a float
        ({"items": [{**LINE, "estimated_amount": "68400.555"}]}, 422, "VALIDATION_FAILED"),  # three decimals
        ({"items": [{**LINE, "estimated_amount": "0.00"}]}, 422, "VALIDATION_FAILED"),
        ({"items": [{**LINE, "quantity": 0}]}, 422, "VALIDATION_FAILED"),
        ({"year": 2018}, 422, "VALIDATION_FAILED"),
    ],
)
async def test_need_errors(
    contract_api: httpx.AsyncClient, tokens: Tokens, change: dict[str, object], status: int, code: str
) -> None:
    r = await contract_api.post(
        "/api/v1/purchase-needs", json={**BODY, **change}, headers=tokens.headers(*TOWNSHIP)
    )
    assert r.status_code == status, r.text
    assert r.json()["code"] == code


@pytest.mark.parametrize(
    ("role", "region", "status"),
    [
        ("township_official", "530102001", 201),
        ("county_official", "530102", 201),
        ("county_official", "530103", 404),
        ("province_admin", "53", 403),
        ("county_government", "530102", 403),
        ("contractor", "530102", 403),
        ("auditor", "53", 403),
    ],
)
async def test_who_raises_needs(
    contract_api: httpx.AsyncClient, tokens: Tokens, role: str, region: str, status: int
) -> None:
    r = await contract_api.post("/api/v1/purchase-needs", json=BODY, headers=tokens.headers(role, region))
    assert r.status_code == status, r.text


STATES = ("draft", "submitted", "accepted", "returned")
ACTIONS = ("submit", "accept", "return")


async def _need_in(state: str, api: httpx.AsyncClient, tokens: Tokens) -> int:
    need = await _create(api, tokens)
    path = f"/api/v1/purchase-needs/{need['id']}"
    author, county = tokens.headers(*TOWNSHIP, sub=TOWNSHIP[0]), tokens.headers(*COUNTY)
    plan = {
        "draft": [],
        "submitted": [("submit", author)],
        "accepted": [("submit", author), ("accept", county)],
        "returned": [("submit", author), ("return", county)],
    }[state]
    for action, headers in plan:
        r = await api.post(
            f"{path}/{action}", json={"reason": "材料不全"} if action == "return" else None, headers=headers
        )
        assert r.status_code == 200, r.text
    return int(need["id"])  # type: ignore[call-overload]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ACTIONS)
async def test_every_state_and_action(
    contract_api: httpx.AsyncClient, tokens: Tokens, state: str, action: str
) -> None:
    need_id = await _need_in(state, contract_api, tokens)
    who = TOWNSHIP if action == "submit" else COUNTY
    r = await contract_api.post(
        f"/api/v1/purchase-needs/{need_id}/{action}",
        json={"reason": "请补充测算依据"} if action == "return" else None,
        headers=tokens.headers(*who, sub=who[0]),
    )
    legal = TRANSITIONS.get((state, action))
    if legal is None:
        assert r.status_code == 409 and r.json()["code"] == "ILLEGAL_TRANSITION"
    else:
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["status"] == legal.target and out["version"] == int(r.headers["etag"].strip('"'))
        assert out["return_reason"] == ("请补充测算依据" if legal.target == "returned" else None)


async def test_only_the_author_submits_and_only_the_county_decides(
    contract_api: httpx.AsyncClient, tokens: Tokens
) -> None:
    need_id = await _need_in("draft", contract_api, tokens)
    path = f"/api/v1/purchase-needs/{need_id}"
    other = await contract_api.post(f"{path}/submit", headers=tokens.headers(*TOWNSHIP, sub="someone-else"))
    assert other.status_code == 403
    await contract_api.post(f"{path}/submit", headers=tokens.headers(*TOWNSHIP, sub=TOWNSHIP[0]))
    assert (await contract_api.post(f"{path}/accept", headers=tokens.headers(*TOWNSHIP))).status_code == 403
    assert (
        await contract_api.post(f"{path}/accept", headers=tokens.headers("county_official", "530103"))
    ).status_code == 404
    stale = await contract_api.post(f"{path}/accept", headers={**tokens.headers(*COUNTY), "If-Match": '"1"'})
    assert stale.status_code == 412
    ok = await contract_api.post(f"{path}/accept", headers={**tokens.headers(*COUNTY), "If-Match": '"2"'})
    assert ok.status_code == 200 and ok.json()["status"] == "accepted"
    empty = await contract_api.post(f"{path}/return", json={"reason": ""}, headers=tokens.headers(*COUNTY))
    assert empty.status_code == 422


async def test_reads_are_scoped(contract_api: httpx.AsyncClient, tokens: Tokens) -> None:
    need_id = await _need_in("draft", contract_api, tokens)
    for headers, status in [
        (tokens.headers(*COUNTY), 200),
        (tokens.headers("township_official", "530102002"), 404),
        (tokens.headers("county_official", "530103"), 404),
        (tokens.headers("prefecture_official", "5301"), 200),
        (tokens.headers("auditor", "53"), 200),
        (tokens.headers("contractor", "530102", org_id="1"), 403),
        (tokens.headers("service", "53", scope="contracts:read"), 200),
    ]:
        assert (
            await contract_api.get(f"/api/v1/purchase-needs/{need_id}", headers=headers)
        ).status_code == status
    listed = await contract_api.get(
        "/api/v1/purchase-needs", params={"status": "draft"}, headers=tokens.headers(*COUNTY)
    )
    assert [n["id"] for n in listed.json()["items"]] == [need_id]
    assert (
        await contract_api.get(
            "/api/v1/purchase-needs", params={"status": "accepted"}, headers=tokens.headers(*COUNTY)
        )
    ).json()["items"] == []
    assert (
        await contract_api.get(
            "/api/v1/purchase-needs", params={"region": "5301"}, headers=tokens.headers(*COUNTY)
        )
    ).status_code == 404
