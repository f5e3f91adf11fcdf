"""Procurement through the API: comprehensive scoring only, bids, evaluators' sheets, evaluation
(the acceptance example), ties, flags, the award creating a draft contract; roles and scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.models import Contract, Debarment, Procurement
from tests.conftest import Tokens, business_day
from tests.contracts.test_contractors import BODY as CONTRACTOR

COUNTY = ("county_official", "530102")
LINE = {"catalog_code": "village_assistance_services", "quantity": 240, "unit": "person_month",
        "posting_level": "village", "estimated_amount": "1200000.00"}  # fmt: skip
CRITERIA = [
    {"code": "service_plan", "name": "服务方案", "weight": "0.40"},
    {"code": "staff_quality", "name": "人员配置", "weight": "0.20"},
    {"code": "experience", "name": "业绩经验", "weight": "0.10"},
]
USCC = ["52530102MJ0123456E", "91530102MA6K00014A", "915301027777777756", "Y1530102MB1P2Q3R72"]


async def _approved_plan(api: httpx.AsyncClient, tokens: Tokens) -> int:
    county = tokens.headers(*COUNTY, sub="county")
    need = {"region_code": "530102", "year": 2027, "items": [LINE], "justification": "全县协理服务"}
    need_id = (await api.post("/api/v1/purchase-needs", json=need, headers=county)).json()["id"]
    for action in ("submit", "accept"):
        assert (
            await api.post(f"/api/v1/purchase-needs/{need_id}/{action}", headers=county)
        ).status_code == 200
    body = {
        "county_code": "530102",
        "year": 2027,
        "need_ids": [need_id],
        "funding_source": "provincial_special_subsidy",
    }
    plan_id = (await api.post("/api/v1/purchase-plans", json=body, headers=county)).json()["id"]
    assert (await api.post(f"/api/v1/purchase-plans/{plan_id}/submit", headers=county)).status_code == 200
    approved = await api.post(
        f"/api/v1/purchase-plans/{plan_id}/approve",
        json={},
        headers=tokens.headers("county_government", "530102"),
    )
    assert approved.status_code == 200, approved.text
    return int(plan_id)


def _procurement_body(plan_id: int, **change: Any) -> dict[str, Any]:
    deadline = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    return {
        "plan_id": plan_id,
        "method": "competitive_consultation",
        "price_weight": "0.30",
        "criteria": CRITERIA,
        "budget_ceiling": "1200000.00",
        "bid_deadline": deadline,
        **change,
    }


async def _open(api: httpx.AsyncClient, tokens: Tokens) -> int:
    r = await api.post(
        "/api/v1/procurements",
        json=_procurement_body(await _approved_plan(api, tokens)),
        headers=tokens.headers(*COUNTY),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _contractor(api: httpx.AsyncClient, tokens: Tokens, n: int, **change: Any) -> int:
    body = {**CONTRACTOR, "name": f"承接主体{n}", "uscc": USCC[n], **change}
    r = await api.post("/api/v1/contractors", json=body, headers=tokens.headers("province_admin", "53"))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _as(tokens: Tokens, contractor_id: int) -> dict[str, str]:
    return tokens.headers("contractor", "530102", org_id=str(contractor_id), sub=f"c{contractor_id}")


async def _bid(
    api: httpx.AsyncClient, tokens: Tokens, procurement: int, contractor: int, price: str
) -> httpx.Response:
    return await api.post(
        f"/api/v1/procurements/{procurement}/bids", json={"price": price}, headers=_as(tokens, contractor)
    )


async def _close(engine: AsyncEngine, procurement: int) -> None:
    """The deadline passes (the test moves it rather than waiting)."""
    async with engine.begin() as conn:
        await conn.execute(
            update(Procurement)
            .where(Procurement.id == procurement)
            .values(bid_deadline=datetime.now(UTC) - timedelta(minutes=1))
        )


async def _score(
    api: httpx.AsyncClient, tokens: Tokens, procurement: int, bid: int, evaluator: str, *s: str
) -> httpx.Response:
    scores = dict(zip(("service_plan", "staff_quality", "experience"), s, strict=True))
    path = f"/api/v1/procurements/{procurement}/bids/{bid}/scores"
    body = {"evaluator": evaluator, "scores": scores}
    return await api.post(path, json=body, headers=tokens.headers(*COUNTY))


async def test_acceptance_example_through_the_api(
    contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    p = await _open(contract_api, tokens)
    a_org, b_org = await _contractor(contract_api, tokens, 0), await _contractor(contract_api, tokens, 1)
    a = (await _bid(contract_api, tokens, p, a_org, "900000.00")).json()["id"]
    b = (await _bid(contract_api, tokens, p, b_org, "1000000.00")).json()["id"]
    early = await _score(contract_api, tokens, p, a, "专家甲", "80", "90", "70")
    assert early.status_code == 409 and early.json()["code"] == "BIDDING_OPEN"
    await _close(engine, p)
    assert (await _score(contract_api, tokens, p, a, "专家甲", "80", "90", "70")).status_code == 201
    again = await _score(contract_api, tokens, p, a, "专家甲", "80", "90", "70")
    assert again.status_code == 409 and again.json()["code"] == "SCORE_EXISTS"
    missing = await contract_api.post(f"/api/v1/procurements/{p}/evaluate", headers=tokens.headers(*COUNTY))
    assert missing.status_code == 422 and missing.json()["code"] == "SCORES_MISSING"
    assert (await _score(contract_api, tokens, p, b, "专家甲", "90", "90", "90")).status_code == 201
    ranked = (
        await contract_api.post(f"/api/v1/procurements/{p}/evaluate", headers=tokens.headers(*COUNTY))
    ).json()
    assert [(r["id"], r["quality_score"], r["price_score"], r["total"], r["rank"]) for r in ranked] == [
        (b, "63.00", "27.00", "90.00", 1), (a, "57.00", "30.00", "87.00", 2),
    ]  # fmt: skip
    won = await contract_api.post(f"/api/v1/procurements/{p}/award", json={}, headers=tokens.headers(*COUNTY))
    assert won.status_code == 201, won.text
    out = won.json()
    assert (out["bid_id"], out["contractor_id"], out["amount"]) == (b, b_org, "1000000.00")
    async with engine.connect() as conn:
        contract = (await conn.execute(select(Contract).where(Contract.id == out["contract_id"]))).one()
    assert (contract.status, contract.amount, contract.county_code, contract.bid_id) == (
        "draft",
        1000000,
        "530102",
        b,
    )
    twice = await contract_api.post(
        f"/api/v1/procurements/{p}/award", json={}, headers=tokens.headers(*COUNTY)
    )
    assert twice.status_code == 409 and twice.json()["code"] == "PROCUREMENT_AWARDED"
    # A contractor sees its own bid only.
    mine = await contract_api.get(f"/api/v1/procurements/{p}/bids", headers=_as(tokens, a_org))
    assert [x["id"] for x in mine.json()] == [a]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"method": "lowest_price"}, "LOWEST_PRICE_NOT_ALLOWED"),
        ({"method": "inquiry"}, "LOWEST_PRICE_NOT_ALLOWED"),
        ({"price_weight": "0.05"}, "PRICE_WEIGHT_OUT_OF_RANGE"),
        ({"price_weight": "0.35"}, "PRICE_WEIGHT_OUT_OF_RANGE"),
        ({"price_weight": "0.29"}, "WEIGHTS_NOT_ONE"),
        ({"budget_ceiling": "1200000.01"}, "CEILING_ABOVE_PLAN"),
        ({"bid_deadline": "2020-01-01T00:00:00+08:00"}, "DEADLINE_PASSED"),
        ({"bid_deadline": "2030-01-01T00:00:00"}, "VALIDATION_FAILED"),  # no offset
        ({"criteria": [*CRITERIA[:2], {**CRITERIA[0], "weight": "0.10"}]}, "DUPLICATE_CRITERION"),
    ],
)
async def test_procurement_rules(
    contract_api: httpx.AsyncClient, tokens: Tokens, change: dict[str, Any], code: str
) -> None:
    plan = await _approved_plan(contract_api, tokens)
    r = await contract_api.post(
        "/api/v1/procurements", json=_procurement_body(plan, **change), headers=tokens.headers(*COUNTY)
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code


async def test_price_weight_bounds_are_included(contract_api: httpx.AsyncClient, tokens: Tokens) -> None:
    plan = await _approved_plan(contract_api, tokens)
    for pw, plan_weight in (("0.10", "0.60"), ("0.30", "0.40")):
        criteria = [{**CRITERIA[0], "weight": plan_weight}, CRITERIA[1], CRITERIA[2]]
        r = await contract_api.post(
            "/api/v1/procurements",
            json=_procurement_body(plan, price_weight=pw, criteria=criteria),
            headers=tokens.headers(*COUNTY),
        )
        assert r.status_code == 201, r.text


async def test_plan_must_be_approved_and_in_scope(contract_api: httpx.AsyncClient, tokens: Tokens) -> None:
    plan = await _approved_plan(contract_api, tokens)
    other = await contract_api.post(
        "/api/v1/procurements",
        json=_procurement_body(plan),
        headers=tokens.headers("county_official", "530103"),
    )
    assert other.status_code == 404
    assert (
        await contract_api.post(
            "/api/v1/procurements",
            json=_procurement_body(plan),
            headers=tokens.headers("province_admin", "53"),
        )
    ).status_code == 403


async def test_bid_rules(contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine) -> None:
    p = await _open(contract_api, tokens)
    good = await _contractor(contract_api, tokens, 0)
    over = await _bid(contract_api, tokens, p, good, "1200000.01")
    assert over.status_code == 422 and over.json()["code"] == "BID_OVER_BUDGET"
    assert (await _bid(contract_api, tokens, p, good, "1200000.00")).status_code == 201  # at the ceiling
    dup = await _bid(contract_api, tokens, p, good, "1000000.00")
    assert dup.status_code == 409 and dup.json()["code"] == "BID_EXISTS"
    ineligible = await _contractor(
        contract_api, tokens, 1, org_type="government_body", registration_authority="establishment_office"
    )
    r = await _bid(contract_api, tokens, p, ineligible, "1000000.00")
    assert r.status_code == 422 and r.json()["code"] == "CONTRACTOR_INELIGIBLE"
    barred = await _contractor(contract_api, tokens, 2)
    today = business_day()
    async with engine.begin() as conn:
        period = {"since": today - timedelta(days=30), "until": today + timedelta(days=30)}
        await conn.execute(
            insert(Debarment).values(contractor_id=barred, region_code="530102", reason="严重违约", **period)
        )
    r = await _bid(contract_api, tokens, p, barred, "1000000.00")
    assert r.status_code == 422 and r.json()["code"] == "CONTRACTOR_DEBARRED"
    assert (await _bid(contract_api, tokens, p, 999_999, "1000.00")).status_code == 404  # no such contractor
    await _close(engine, p)
    late = await _bid(contract_api, tokens, p, await _contractor(contract_api, tokens, 3), "1000.00")
    assert late.status_code == 409 and late.json()["code"] == "BIDDING_CLOSED"
    assert (
        await contract_api.post(
            f"/api/v1/procurements/{p}/bids", json={"price": "1.00"}, headers=tokens.headers(*COUNTY)
        )
    ).status_code == 403


async def test_a_shared_first_rank_needs_a_named_winner(
    contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    p = await _open(contract_api, tokens)
    orgs = [await _contractor(contract_api, tokens, n) for n in (0, 1)]
    bids = [(await _bid(contract_api, tokens, p, o, "1000000.00")).json()["id"] for o in orgs]
    await _close(engine, p)
    for b in bids:
        assert (await _score(contract_api, tokens, p, b, "专家甲", "90", "90", "90")).status_code == 201
    ranked = (
        await contract_api.post(f"/api/v1/procurements/{p}/evaluate", headers=tokens.headers(*COUNTY))
    ).json()
    assert [r["rank"] for r in ranked] == [1, 1]
    r = await contract_api.post(f"/api/v1/procurements/{p}/award", json={}, headers=tokens.headers(*COUNTY))
    assert r.status_code == 422 and r.json()["code"] == "WINNER_REQUIRED"
    r = await contract_api.post(
        f"/api/v1/procurements/{p}/award", json={"winner_bid_id": 999_999}, headers=tokens.headers(*COUNTY)
    )
    assert r.status_code == 422 and r.json()["code"] == "WINNER_NOT_TOP"
    r = await contract_api.post(
        f"/api/v1/procurements/{p}/award", json={"winner_bid_id": bids[1]}, headers=tokens.headers(*COUNTY)
    )
    assert r.status_code == 201 and r.json()["bid_id"] == bids[1]


async def test_flags_must_be_resolved_before_the_award(
    contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    p = await _open(contract_api, tokens)
    shell = await _contractor(contract_api, tokens, 0, employees=0, social_insurance_enrollees=0)
    fair = [await _contractor(contract_api, tokens, n) for n in (1, 2)]
    cheap = (await _bid(contract_api, tokens, p, shell, "300000.00")).json()
    assert cheap["risk_flags"] == ["NO_EMPLOYEES", "NO_SOCIAL_INSURANCE_ENROLLEES"]
    others = [(await _bid(contract_api, tokens, p, o, "1000000.00")).json()["id"] for o in fair]
    await _close(engine, p)
    assert (await _score(contract_api, tokens, p, cheap["id"], "专家甲", "95", "95", "95")).status_code == 201
    for b in others:
        assert (await _score(contract_api, tokens, p, b, "专家甲", "60", "60", "60")).status_code == 201
    ranked = (
        await contract_api.post(f"/api/v1/procurements/{p}/evaluate", headers=tokens.headers(*COUNTY))
    ).json()
    assert (
        ranked[0]["id"] == cheap["id"] and ranked[0]["abnormally_low"] is True
    )  # 300000 < half of 766666.67
    award = f"/api/v1/procurements/{p}/award"
    bid_path = f"/api/v1/procurements/{p}/bids/{cheap['id']}"
    r = await contract_api.post(award, json={}, headers=tokens.headers(*COUNTY))
    assert r.status_code == 409 and r.json()["code"] == "FLAGS_UNRESOLVED"
    await contract_api.post(
        f"{bid_path}/risk-review", json={"review": "已核实办公场所与人员"}, headers=tokens.headers(*COUNTY)
    )
    assert (
        await contract_api.post(award, json={}, headers=tokens.headers(*COUNTY))
    ).status_code == 409  # price still unexplained
    await contract_api.post(
        f"{bid_path}/explanation",
        json={"text": "自有场地，成本较低", "accepted": False},
        headers=tokens.headers(*COUNTY),
    )
    assert (
        await contract_api.post(award, json={}, headers=tokens.headers(*COUNTY))
    ).status_code == 409  # not accepted
    await contract_api.post(
        f"{bid_path}/explanation",
        json={"text": "自有场地，成本较低", "accepted": True},
        headers=tokens.headers(*COUNTY),
    )
    assert (await contract_api.post(award, json={}, headers=tokens.headers(*COUNTY))).status_code == 201


async def test_reads_of_a_procurement(contract_api: httpx.AsyncClient, tokens: Tokens) -> None:
    p = await _open(contract_api, tokens)
    for headers, status in [
        (tokens.headers(*COUNTY), 200),
        (tokens.headers("county_official", "530103"), 404),
        (tokens.headers("auditor", "53"), 200),
        (tokens.headers("contractor", "530103", org_id="5"), 200),  # a call for bids is public to bidders
        (tokens.headers("worker", "530102"), 403),
    ]:
        assert (await contract_api.get(f"/api/v1/procurements/{p}", headers=headers)).status_code == status
    assert (
        await contract_api.get(
            f"/api/v1/procurements/{p}/bids", headers=tokens.headers("county_official", "530103")
        )
    ).status_code == 404
