"""Purchase plans: accepted needs summed, the ESTABLISHMENT_VACANCIES warning (§二) at its boundary,
approval with written justifications, the lifecycle table, roles and scope."""

from __future__ import annotations

import httpx
import pytest

from services.contract_api.plans.rules import TRANSITIONS
from tests.conftest import Stack, Tokens
from tests.contracts.test_needs import BODY as NEED

COUNTY = ("county_official", "530102")
GOVERNMENT = ("county_government", "530102")


async def _accepted_need(
    api: httpx.AsyncClient, tokens: Tokens, region: str = "530102001", year: int = 2027
) -> int:
    who = ("township_official", region) if len(region) == 9 else COUNTY
    author = tokens.headers(*who, sub="author")
    r = await api.post(
        "/api/v1/purchase-needs", json={**NEED, "region_code": region, "year": year}, headers=author
    )
    assert r.status_code == 201, r.text
    need_id = int(r.json()["id"])
    assert (await api.post(f"/api/v1/purchase-needs/{need_id}/submit", headers=author)).status_code == 200
    assert (
        await api.post(f"/api/v1/purchase-needs/{need_id}/accept", headers=tokens.headers(*COUNTY))
    ).status_code == 200
    return need_id


async def _plan(api: httpx.AsyncClient, tokens: Tokens, need_ids: list[int]) -> httpx.Response:
    body = {
        "county_code": "530102",
        "year": 2027,
        "need_ids": need_ids,
        "funding_source": "provincial_special_subsidy",
    }
    return await api.post("/api/v1/purchase-plans", json=body, headers=tokens.headers(*COUNTY))


async def _establish(stack: Stack, tokens: Tokens, unit: str, authorized: int, in_post: int) -> None:
    staffing, county = stack.direct["staffing"], tokens.headers(*COUNTY)
    r = await staffing.put(
        f"/api/v1/regions/{unit}/establishment", json={"authorized_posts": authorized}, headers=county
    )
    assert r.status_code == 200, r.text
    ids = ["530102197603150029", "530627200802290058", "11010519491231002X"]
    for n in range(in_post):
        person = {"name": f"在编{n}", "id_number": ids[n], "region_code": "530102", "education": "bachelor"}
        p = await staffing.post("/api/v1/persons", json=person, headers=county)
        assert p.status_code == 201, p.text
        post = {"person_id": p.json()["id"], "region_code": unit, "since": "2020-01-01"}
        assert (
            await staffing.post("/api/v1/establishment-posts", json=post, headers=county)
        ).status_code == 201


async def test_plan_sums_accepted_needs(contract_api: httpx.AsyncClient, tokens: Tokens) -> None:
    a, b = await _accepted_need(contract_api, tokens), await _accepted_need(contract_api, tokens, "530102")
    r = await _plan(contract_api, tokens, [b, a])
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["status"], out["need_ids"], out["total"], out["warnings"]) == (
        "draft",
        [a, b],
        "160801.00",
        [],
    )
    assert out["allowed_actions"] == ["submit"]
    again = await _plan(contract_api, tokens, [a])
    assert again.status_code == 422 and again.json()["errors"][0]["code"] == "NEED_ALREADY_PLANNED"


@pytest.mark.parametrize(
    ("authorized", "in_post", "warned"),
    [(2, 1, True), (2, 2, False), (1, 2, False), (0, 0, False)],
)
async def test_vacancies_warning_at_its_boundary(
    stack: Stack, contract_api: httpx.AsyncClient, tokens: Tokens, authorized: int, in_post: int, warned: bool
) -> None:
    await _establish(stack, tokens, "530102001", authorized, in_post)
    need = await _accepted_need(contract_api, tokens)
    out = (await _plan(contract_api, tokens, [need])).json()
    unit = {"region_code": "530102001", "authorized": authorized, "in_post": in_post}
    expected = [{"code": "ESTABLISHMENT_VACANCIES", "units": [unit]}] if warned else []
    assert out["warnings"] == expected


async def test_approval_justifies_each_warning(
    stack: Stack, contract_api: httpx.AsyncClient, tokens: Tokens
) -> None:
    await _establish(stack, tokens, "530102", 3, 0)
    plan = (await _plan(contract_api, tokens, [await _accepted_need(contract_api, tokens)])).json()
    path = f"/api/v1/purchase-plans/{plan['id']}"
    assert (await contract_api.post(f"{path}/submit", headers=tokens.headers(*COUNTY))).status_code == 200
    bare = await contract_api.post(f"{path}/approve", json={}, headers=tokens.headers(*GOVERNMENT))
    assert bare.status_code == 422 and bare.json()["code"] == "JUSTIFICATION_REQUIRED"
    blank = await contract_api.post(
        f"{path}/approve",
        json={"justifications": {"ESTABLISHMENT_VACANCIES": "  "}},
        headers=tokens.headers(*GOVERNMENT),
    )
    assert blank.status_code == 422
    why = "编制内人员招录已启动，过渡期先行购买服务"
    ok = await contract_api.post(
        f"{path}/approve",
        json={"justifications": {"ESTABLISHMENT_VACANCIES": why}},
        headers=tokens.headers(*GOVERNMENT),
    )
    assert ok.status_code == 200, ok.text
    assert (ok.json()["status"], ok.json()["justifications"]) == (
        "approved",
        {"ESTABLISHMENT_VACANCIES": why},
    )


async def test_needs_that_cannot_be_planned(contract_api: httpx.AsyncClient, tokens: Tokens) -> None:
    draft = await contract_api.post(
        "/api/v1/purchase-needs", json=NEED, headers=tokens.headers("township_official", "530102001")
    )
    other_year = await _accepted_need(contract_api, tokens, year=2028)
    r = await _plan(contract_api, tokens, [draft.json()["id"], other_year])
    assert r.status_code == 422
    assert [e["code"] for e in r.json()["errors"]] == ["NEED_NOT_ACCEPTED", "NEED_YEAR_MISMATCH"]
    assert (await _plan(contract_api, tokens, [999_999])).status_code == 404
    elsewhere = await contract_api.post(
        "/api/v1/purchase-needs",
        json={**NEED, "region_code": "530103001"},
        headers=tokens.headers("township_official", "530103001"),
    )
    assert (await _plan(contract_api, tokens, [elsewhere.json()["id"]])).status_code == 404


STATES = ("draft", "submitted", "approved", "rejected")
ACTIONS = ("submit", "approve", "reject")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ACTIONS)
async def test_every_state_and_action(
    contract_api: httpx.AsyncClient, tokens: Tokens, state: str, action: str
) -> None:
    plan = (await _plan(contract_api, tokens, [await _accepted_need(contract_api, tokens)])).json()
    path = f"/api/v1/purchase-plans/{plan['id']}"
    county, government = tokens.headers(*COUNTY), tokens.headers(*GOVERNMENT)
    submit = ("submit", county, None)
    steps = {
        "draft": [],
        "submitted": [submit],
        "approved": [submit, ("approve", government, {})],
        "rejected": [submit, ("reject", government, {"reason": "预算不足"})],
    }[state]
    for name, headers, body in steps:
        assert (await contract_api.post(f"{path}/{name}", json=body, headers=headers)).status_code == 200
    body = {"reason": "重新测算"} if action == "reject" else ({} if action == "approve" else None)
    r = await contract_api.post(
        f"{path}/{action}", json=body, headers=county if action == "submit" else government
    )
    legal = TRANSITIONS.get((state, action))
    if legal is None:
        assert r.status_code == 409 and r.json()["code"] == "ILLEGAL_TRANSITION"
    else:
        assert r.status_code == 200 and r.json()["status"] == legal.target


async def test_a_rejected_plan_frees_its_needs(contract_api: httpx.AsyncClient, tokens: Tokens) -> None:
    need = await _accepted_need(contract_api, tokens)
    plan = (await _plan(contract_api, tokens, [need])).json()
    path = f"/api/v1/purchase-plans/{plan['id']}"
    await contract_api.post(f"{path}/submit", headers=tokens.headers(*COUNTY))
    await contract_api.post(
        f"{path}/reject", json={"reason": "预算不足"}, headers=tokens.headers(*GOVERNMENT)
    )
    assert (await _plan(contract_api, tokens, [need])).status_code == 201


@pytest.mark.parametrize(
    ("who", "action", "status"),
    [
        (("county_government", "530102"), "submit", 403),
        (("county_official", "530102"), "approve", 403),
        (("county_government", "530103"), "approve", 404),
        (("township_official", "530102001"), "submit", 403),
        (("province_admin", "53"), "approve", 403),
    ],
)
async def test_who_moves_a_plan(
    contract_api: httpx.AsyncClient, tokens: Tokens, who: tuple[str, str], action: str, status: int
) -> None:
    plan = (await _plan(contract_api, tokens, [await _accepted_need(contract_api, tokens)])).json()
    path = f"/api/v1/purchase-plans/{plan['id']}"
    if action == "approve":
        await contract_api.post(f"{path}/submit", headers=tokens.headers(*COUNTY))
    r = await contract_api.post(
        f"{path}/{action}", json={} if action == "approve" else None, headers=tokens.headers(*who)
    )
    assert r.status_code == status, r.text


async def test_reads_are_scoped(contract_api: httpx.AsyncClient, tokens: Tokens) -> None:
    plan = (await _plan(contract_api, tokens, [await _accepted_need(contract_api, tokens)])).json()
    for headers, status in [
        (tokens.headers(*COUNTY), 200),
        (tokens.headers(*GOVERNMENT), 200),
        (tokens.headers("county_official", "530103"), 404),
        (tokens.headers("township_official", "530102001"), 404),
        (tokens.headers("finance_official", "53"), 200),
        (tokens.headers("contractor", "530102", org_id="1"), 403),
    ]:
        assert (
            await contract_api.get(f"/api/v1/purchase-plans/{plan['id']}", headers=headers)
        ).status_code == status
    listed = await contract_api.get(
        "/api/v1/purchase-plans", params={"year": 2027}, headers=tokens.headers("prefecture_official", "5301")
    )
    assert [p["id"] for p in listed.json()["items"]] == [plan["id"]]
