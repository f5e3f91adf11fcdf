"""The contract lifecycle: terms while draft (If-Match, three-year term), every (state, action) pair of
the one transition table, who acknowledges the work plan, takeover, and a serious termination that
debars the contractor."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.models import Contract, Event
from services.common.months import add_months
from services.contract_api.contracts.rules import TRANSITIONS
from tests.conftest import Stack, Tokens, business_day
from tests.contracts.test_contractors import BODY as CONTRACTOR

COUNTY = ("county_official", "530102")
TERMS = {
    "start_date": "2027-01-01",
    "end_date": "2029-12-31",
    "posts": [
        {"posting_level": "village", "region_code": "530102001001", "count": 2, "monthly_wage": "2850.00"}
    ],
    "payment_schedule": "monthly",
    "takeover_plan": {
        "unit": "五华区民政局社会救助科",
        "contact": "李科长",
        "summary": "承接主体不能履约时由科室直接服务",
    },
}


async def _draft(
    api: httpx.AsyncClient,
    tokens: Tokens,
    engine: AsyncEngine,
    county: str = "530102",
    contractor: int | None = None,
) -> tuple[int, int]:
    if contractor is None:
        body = {**CONTRACTOR, "region_code": county}
        r = await api.post("/api/v1/contractors", json=body, headers=tokens.headers("province_admin", "53"))
        assert r.status_code == 201, r.text
        contractor = int(r.json()["id"])
    values = {
        "county_code": county,
        "contractor_id": contractor,
        "status": "draft",
        "amount": Decimal("684000.00"),
    }
    async with engine.begin() as conn:
        contract = (await conn.execute(insert(Contract).values(**values).returning(Contract.id))).scalar_one()
    return int(contract), contractor


def _who(action: str, contractor: int, county: str = "530102") -> dict[str, Any]:
    if action == "authorize":
        return {"role": "county_government", "region": county}
    if action == "work-plan":
        return {"role": "contractor", "region": county, "org_id": str(contractor)}
    if action == "acknowledge":
        return {"role": "prefecture_official", "region": county[:4]}
    return {"role": "county_official", "region": county}


BODIES: dict[str, Any] = {
    "work-plan": {"work_plan": "按村配备协理员，每月走访低保户"},
    "takeover": {"unit": "五华区民政局", "reason": "承接主体资金链断裂"},
    "terminate": {"reason": "未按约提供服务", "serious": False},
}
PATH = ["authorize", "sign", "work-plan", "acknowledge", "activate"]
REACH = {
    "draft": [], "authorized": PATH[:1], "signed": PATH[:2], "filed": PATH[:3], "acknowledged": PATH[:4],
    "active": PATH, "suspended": [*PATH, "takeover"], "completed": [*PATH, "complete"],
    "terminated": [*PATH[:1], "terminate"],
}  # fmt: skip


async def _act(
    api: httpx.AsyncClient, tokens: Tokens, contract: int, contractor: int, action: str
) -> httpx.Response:
    return await api.post(
        f"/api/v1/contracts/{contract}/{action}",
        json=BODIES.get(action),
        headers=tokens.headers(**_who(action, contractor)),
    )


async def _in(
    state: str, api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine, contractor: int | None = None
) -> tuple[int, int]:
    contract, contractor = await _draft(api, tokens, engine, contractor=contractor)
    assert (
        await api.patch(f"/api/v1/contracts/{contract}", json=TERMS, headers=tokens.headers(*COUNTY))
    ).status_code == 200
    for action in REACH[state]:
        r = await _act(api, tokens, contract, contractor, action)
        assert r.status_code == 200, (action, r.text)
    return contract, contractor


async def test_the_whole_lifecycle(
    contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    contract, contractor = await _in("active", contract_api, tokens, engine)
    read = (await contract_api.get(f"/api/v1/contracts/{contract}", headers=tokens.headers(*COUNTY))).json()
    assert (read["status"], read["version"], read["acknowledged_by"]) == (
        "active",
        7,
        "prefecture_official:5301",
    )
    assert read["allowed_actions"] == ["complete", "takeover", "terminate"]
    for action, status in (("takeover", "suspended"), ("resume", "active"), ("complete", "completed")):
        r = await _act(contract_api, tokens, contract, contractor, action)
        assert r.status_code == 200 and r.json()["status"] == status
    async with engine.connect() as conn:
        types = list(
            (
                await conn.execute(select(Event.type).where(Event.resource == "contract").order_by(Event.id))
            ).scalars()
        )
    assert types == [
        "contract.updated",
        *(f"contract.{a}" for a in PATH),
        "contract.takeover",
        "contract.resume",
        "contract.complete",
    ]


STATES = list(REACH)
ACTIONS = sorted({a for _, a in TRANSITIONS})


@pytest.mark.parametrize("state", STATES)
async def test_every_state_and_action(stack: Stack, tokens: Tokens, engine: AsyncEngine, state: str) -> None:
    api = stack.direct["contract"]
    contractor = None
    for action in ACTIONS:
        contract, contractor = await _in(state, api, tokens, engine, contractor)
        r = await _act(api, tokens, contract, contractor, action)
        legal = TRANSITIONS.get((state, action))
        if legal is None:
            assert r.status_code == 409, (state, action, r.text)
            assert r.json()["code"] == "ILLEGAL_TRANSITION"
        else:
            assert r.status_code == 200, (state, action, r.text)
            assert r.json()["status"] == legal.target


async def test_draft_terms(contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine) -> None:
    contract, contractor = await _draft(contract_api, tokens, engine)
    path = f"/api/v1/contracts/{contract}"
    incomplete = await _act(contract_api, tokens, contract, contractor, "authorize")
    assert incomplete.status_code == 422 and incomplete.json()["code"] == "TERMS_INCOMPLETE"
    too_long = await contract_api.patch(
        path, json={**TERMS, "end_date": "2030-01-01"}, headers=tokens.headers(*COUNTY)
    )
    assert too_long.status_code == 422 and too_long.json()["code"] == "TERM_TOO_LONG"
    backwards = await contract_api.patch(
        path, json={**TERMS, "end_date": "2026-12-31"}, headers=tokens.headers(*COUNTY)
    )
    assert backwards.status_code == 422 and backwards.json()["code"] == "INVALID_TERM"
    ok = await contract_api.patch(path, json=TERMS, headers={**tokens.headers(*COUNTY), "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    stale = await contract_api.patch(
        path, json={"payment_schedule": "quarterly"}, headers={**tokens.headers(*COUNTY), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    outside = [{**TERMS["posts"][0], "region_code": "530103001001"}]
    assert (
        await contract_api.patch(path, json={"posts": outside}, headers=tokens.headers(*COUNTY))
    ).status_code == 422
    assert (await _act(contract_api, tokens, contract, contractor, "authorize")).status_code == 200
    fixed = await contract_api.patch(
        path, json={"payment_schedule": "quarterly"}, headers=tokens.headers(*COUNTY)
    )
    assert fixed.status_code == 409 and fixed.json()["code"] == "CONTRACT_FIXED"


async def test_who_acknowledges_the_work_plan(
    contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    contract, _ = await _in("filed", contract_api, tokens, engine)
    ack = f"/api/v1/contracts/{contract}/acknowledge"
    assert (
        await contract_api.post(ack, headers=tokens.headers("prefecture_official", "5303"))
    ).status_code == 404
    assert (await contract_api.post(ack, headers=tokens.headers("province_admin", "53"))).status_code == 403
    assert (
        await contract_api.post(ack, headers=tokens.headers("county_official", "530102"))
    ).status_code == 403
    assert (
        await contract_api.post(ack, headers=tokens.headers("prefecture_official", "5301"))
    ).status_code == 200


async def test_directly_administered_counties_file_with_the_province(
    contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    contract, contractor = await _draft(contract_api, tokens, engine, county="530627")
    terms = {**TERMS, "posts": [{**TERMS["posts"][0], "region_code": "530627"}]}
    official = tokens.headers("county_official", "530627")
    assert (
        await contract_api.patch(f"/api/v1/contracts/{contract}", json=terms, headers=official)
    ).status_code == 200
    for action in PATH[:3]:
        assert (
            await _act_in(contract_api, tokens, contract, contractor, action, "530627")
        ).status_code == 200
    ack = f"/api/v1/contracts/{contract}/acknowledge"
    assert (
        await contract_api.post(ack, headers=tokens.headers("prefecture_official", "5306"))
    ).status_code == 403
    assert (await contract_api.post(ack, headers=tokens.headers("province_admin", "53"))).status_code == 200


async def _act_in(
    api: httpx.AsyncClient, tokens: Tokens, contract: int, contractor: int, action: str, county: str
) -> httpx.Response:
    return await api.post(
        f"/api/v1/contracts/{contract}/{action}",
        json=BODIES.get(action),
        headers=tokens.headers(**_who(action, contractor, county)),
    )


async def test_activation_needs_a_takeover_plan(
    contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    contract, contractor = await _draft(contract_api, tokens, engine)
    terms = {k: v for k, v in TERMS.items() if k != "takeover_plan"}
    assert (
        await contract_api.patch(f"/api/v1/contracts/{contract}", json=terms, headers=tokens.headers(*COUNTY))
    ).status_code == 200
    for action in PATH[:4]:
        assert (await _act(contract_api, tokens, contract, contractor, action)).status_code == 200
    r = await _act(contract_api, tokens, contract, contractor, "activate")
    assert r.status_code == 422 and r.json()["code"] == "TAKEOVER_PLAN_REQUIRED"


@pytest.mark.parametrize(("months", "status"), [(11, 422), (12, 200), (36, 200), (37, 422), (None, 200)])
async def test_a_serious_termination_debars(
    contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine, months: int | None, status: int
) -> None:
    contract, contractor = await _in("active", contract_api, tokens, engine)
    body = {
        "reason": "伪造服务记录，情节严重",
        "serious": True,
        **({"debar_months": months} if months else {}),
    }
    r = await contract_api.post(
        f"/api/v1/contracts/{contract}/terminate", json=body, headers=tokens.headers(*COUNTY)
    )
    assert r.status_code == status, r.text
    if status != 200:
        return
    today = business_day()
    debarments = (
        await contract_api.get(
            f"/api/v1/contractors/{contractor}/debarments", headers=tokens.headers(*COUNTY)
        )
    ).json()
    assert [(d["contract_id"], d["since"], d["until"], d["in_force"]) for d in debarments] == [
        (contract, today.isoformat(), add_months(today, months or 36).isoformat(), True)
    ]
    public = (await contract_api.get("/api/v1/public/debarments")).json()["items"]
    assert [d["uscc"] for d in public] == [CONTRACTOR["uscc"]]


async def test_a_debarred_contractor_cannot_sign(
    contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    first, contractor = await _in("active", contract_api, tokens, engine)
    await contract_api.post(
        f"/api/v1/contracts/{first}/terminate",
        json={"reason": "严重违约", "serious": True},
        headers=tokens.headers(*COUNTY),
    )
    async with engine.begin() as conn:
        second = (
            await conn.execute(
                insert(Contract)
                .values(county_code="530102", contractor_id=contractor, status="draft")
                .returning(Contract.id)
            )
        ).scalar_one()
    await contract_api.patch(f"/api/v1/contracts/{second}", json=TERMS, headers=tokens.headers(*COUNTY))
    assert (await _act(contract_api, tokens, second, contractor, "authorize")).status_code == 200
    r = await _act(contract_api, tokens, second, contractor, "sign")
    assert r.status_code == 422 and r.json()["code"] == "CONTRACTOR_DEBARRED"


async def test_who_sees_a_contract(
    contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    contract, contractor = await _draft(contract_api, tokens, engine)
    for headers, status in [
        (tokens.headers(*COUNTY), 200),
        (tokens.headers("county_official", "530103"), 404),
        (tokens.headers("prefecture_official", "5301"), 200),
        (tokens.headers("auditor", "53"), 200),
        (tokens.headers("contractor", "530102", org_id=str(contractor)), 200),
        (tokens.headers("contractor", "530102", org_id=str(contractor + 1)), 404),
        (tokens.headers("worker", "530102"), 403),
        (tokens.headers("service", "53", scope="contracts:read"), 200),
    ]:
        assert (
            await contract_api.get(f"/api/v1/contracts/{contract}", headers=headers)
        ).status_code == status
    mine = await contract_api.get(
        "/api/v1/contracts", headers=tokens.headers("contractor", "530102", org_id=str(contractor))
    )
    assert [c["id"] for c in mine.json()["items"]] == [contract]
    other = await contract_api.get("/api/v1/contracts", headers=tokens.headers("county_official", "530103"))
    assert other.json()["items"] == []
    # Another contractor cannot file this contract's work plan.
    stranger = tokens.headers("contractor", "530102", org_id=str(contractor + 1))
    plan = await contract_api.post(
        f"/api/v1/contracts/{contract}/work-plan", json=BODIES["work-plan"], headers=stranger
    )
    assert plan.status_code == 404
