"""因素法 allocations through the API: the acceptance example to the fen, units and defaults, the states
and who moves them, re-allocation by a prefecture, and public disclosure."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Stack, Tokens
from tests.funds.conftest import (
    ACCEPTANCE,
    COUNTY,
    FINANCE,
    PREFECTURE,
    PREFECTURE_FINANCE,
    PROVINCE_ADMIN,
    REALLOCATION_VALUES,
    WEIGHTS,
    Funds,
    money,
)
from tests.penalties.conftest import Case

DIRECT = {"530627", "530381", "530581"}


def by_code(allocation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {x["region_code"]: x for x in allocation["lines"]}


@pytest.mark.parametrize("target", ["gateway", "direct"], indirect=True)
async def test_acceptance_example_to_the_fen(funds: Funds) -> None:
    r = await funds.create(ACCEPTANCE)
    assert r.status_code == 201, r.text
    a = r.json()
    assert (a["status"], a["allowed_actions"], a["total_amount"]) == ("draft", ["approve"], "10000000.00")
    lines = by_code(a)
    expected = {
        "5301": ("0.397685", "3976850.21"),
        "5303": ("0.378278", "3782783.31"),
        "530627": ("0.224037", "2240366.48"),
    }
    assert {c: (x["share"], x["amount"]) for c, x in lines.items()} == expected
    assert sum(money(x["amount"]) for x in a["lines"]) == Decimal("10000000.00")
    assert lines["5301"]["region_name"] == "昆明市"
    assert money(lines["530627"]["factors"]["performance"]) == Decimal("76")
    assert all(x["spent"] == "0.00" and x["remaining"] == x["amount"] for x in a["lines"])


async def test_finance_of_the_province_may_create_too(funds: Funds) -> None:
    assert (await funds.create(ACCEPTANCE, FINANCE)).status_code == 201


@pytest.mark.parametrize("target", ["gateway", "direct"], indirect=True)
@pytest.mark.parametrize(
    "who", [COUNTY, ("auditor", "53"), ("county_government", "530102"), ("contractor", "53")]
)
async def test_roles_that_may_not_allocate(funds: Funds, who: tuple[str, str]) -> None:
    r = await funds.create(ACCEPTANCE, who)
    assert r.status_code == 403, r.text


@pytest.mark.parametrize("who", [PREFECTURE, PREFECTURE_FINANCE, ("finance_official", "530102")])
async def test_a_lower_level_cannot_make_the_provinces_allocation(funds: Funds, who: tuple[str, str]) -> None:
    assert (await funds.create(ACCEPTANCE, who)).status_code == 403


@pytest.mark.parametrize(
    ("weights", "code"),
    [
        ({**WEIGHTS, "performance": "0.19"}, "WEIGHTS_INVALID"),  # sums to 0.99
        ({**WEIGHTS, "performance": "0.21"}, "WEIGHTS_INVALID"),  # sums to 1.01
        ({**WEIGHTS, "performance": "0.200001"}, "WEIGHTS_INVALID"),  # a millionth over
        ({**WEIGHTS, "workload": "-0.1", "performance": "0.6"}, "VALIDATION_FAILED"),
        ({"needy_population": "1"}, "VALIDATION_FAILED"),
    ],
)
async def test_weights_must_be_non_negative_and_sum_to_one(
    funds: Funds, weights: dict[str, str], code: str
) -> None:
    r = await funds.create({**ACCEPTANCE, "weights": weights})
    assert (r.status_code, r.json()["code"]) == (422, code)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"units": ["5301", "530102"]}, "UNIT_NOT_ELIGIBLE"),  # a county of a prefecture
        ({"units": ["5301", "5301"]}, "UNIT_NOT_ELIGIBLE"),
        ({"units": ["5301"], "factor_values": {"5303": {"workload": 1}}}, "UNIT_NOT_ELIGIBLE"),
        ({"total_amount": "100.001"}, "VALIDATION_FAILED"),
        ({"total_amount": None}, "INVALID_TOTAL"),
        ({"own_funds": "5.00"}, "OWN_FUNDS_NOT_ALLOWED"),
        ({"factor_values": {"5301": {"workload": -1}}}, "VALIDATION_FAILED"),
    ],
)
async def test_rejected_allocations(funds: Funds, change: dict[str, Any], code: str) -> None:
    r = await funds.create({**ACCEPTANCE, **change})
    assert (r.status_code, r.json()["code"]) == (422, code), r.text


async def test_default_units_and_factor_values_from_the_data(funds: Funds, engine: AsyncEngine) -> None:
    """No units given: the 16 prefectures and the three directly administered counties. Needy population
    is each county's latest dibao + tekun, a prefecture's the sum of its counties but the directly
    administered ones, which count for themselves."""
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM region_stats"))  # the demo figures
        await conn.execute(
            text(
                "INSERT INTO region_stats (region_code, month, dibao_recipients, tekun_recipients) VALUES "
                "('530102', '2026-01-01', 100, 20), ('530102', '2026-02-01', 110, 20), "
                "('530103', '2026-02-01', 70, NULL), ('530381', '2026-02-01', 50, 5), "
                "('530302', '2026-02-01', 40, 0), ('530102001', '2026-02-01', 9999, 0)"
            )
        )
    r = await funds.create({"year": 2026, "total_amount": "1000.00", "weights": WEIGHTS})
    assert r.status_code == 201, r.text
    lines = by_code(r.json())
    assert len(lines) == 19 and set(lines) >= DIRECT
    assert {c for c in lines if len(c) == 4} == {
        f"53{n:02d}" for n in (1, 3, 4, 5, 6, 7, 8, 9, 23, 25, 26, 28, 29, 31, 33, 34)
    }
    needy = {
        c: money(x["factors"]["needy_population"])
        for c, x in lines.items()
        if money(x["factors"]["needy_population"])
    }
    assert needy == {"5301": 200, "5303": 40, "530381": 55}  # 130 + 70; 530381 outside 5303
    # Only needy population has data: the other weights are dropped, the shares follow it alone.
    assert {c: x["amount"] for c, x in lines.items() if x["amount"] != "0.00"} == {
        "5301": "677.97", "5303": "135.59", "530381": "186.44",
    }  # fmt: skip
    assert sum(money(x["amount"]) for x in lines.values()) == Decimal("1000.00")


async def test_no_data_for_any_weighted_factor(funds: Funds, engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM region_stats"))
    r = await funds.create({"year": 2026, "total_amount": "1000.00", "weights": WEIGHTS})
    assert (r.status_code, r.json()["code"]) == (422, "NO_FACTOR_DATA")


async def test_draft_approve_publish(funds: Funds) -> None:
    a = (await funds.create(ACCEPTANCE)).json()
    # Approval is the finance department's, of that level; the province's admin publishes.
    assert (await funds.act(a["id"], "approve", PROVINCE_ADMIN)).status_code == 403
    assert (await funds.act(a["id"], "approve", ("finance_official", "5301"))).status_code == 404  # a draft
    assert (await funds.act(a["id"], "publish", FINANCE)).json()["code"] == "ILLEGAL_TRANSITION"
    assert (await funds.act(a["id"], "approve", FINANCE, **{"If-Match": '"7"'})).status_code == 412
    r = await funds.act(a["id"], "approve", FINANCE, **{"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.headers["ETag"]) == ("approved", '"2"')
    assert r.json()["approved_by"]
    assert (await funds.act(a["id"], "approve", FINANCE)).status_code == 409
    assert (await funds.act(a["id"], "publish", COUNTY)).status_code == 403
    r = await funds.act(a["id"], "publish", PROVINCE_ADMIN)
    assert (r.status_code, r.json()["status"], r.json()["allowed_actions"]) == (200, "published", [])
    assert r.json()["published_at"] is not None
    assert (await funds.act(a["id"], "publish", FINANCE)).status_code == 409


async def test_who_sees_an_allocation(funds: Funds, api: httpx.AsyncClient) -> None:
    a = (await funds.create(ACCEPTANCE)).json()
    path = f"/api/v1/allocations/{a['id']}"
    assert (await api.get(path, headers=funds.h(("auditor", "53")))).status_code == 200
    for who in (PREFECTURE, COUNTY, ("auditor", "5301")):  # a draft: the province's business
        assert (await api.get(path, headers=funds.h(who))).status_code == 404
    listed = await api.get("/api/v1/allocations", headers=funds.h(PREFECTURE))
    assert listed.json()["items"] == []
    await funds.act(a["id"], "approve", FINANCE)
    await funds.act(a["id"], "publish", FINANCE)
    for who in (PREFECTURE, COUNTY, ("auditor", "5301")):
        assert (await api.get(path, headers=funds.h(who))).status_code == 200
    listed = await api.get("/api/v1/allocations?year=2026&status=published", headers=funds.h(COUNTY))
    assert [x["id"] for x in listed.json()["items"]] == [a["id"]]
    assert (await api.get("/api/v1/allocations?year=2025", headers=funds.h(COUNTY))).json()["items"] == []
    assert (await api.get(path, headers=funds.h(("contractor", "530102")))).status_code == 403


async def test_public_allocations(funds: Funds, stack: Stack) -> None:
    draft = (await funds.create(ACCEPTANCE)).json()
    published = await funds.published(ACCEPTANCE)
    r = await stack.gateway.get("/api/v1/public/allocations?year=2026")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [x["id"] for x in items] == [published["id"]] and draft["id"] != published["id"]
    assert {x["region_code"]: x["amount"] for x in items[0]["lines"]}["5301"] == "3976850.21"
    assert "created_by" not in items[0] and "spent" not in items[0]["lines"][0]
    again = await stack.gateway.get(
        "/api/v1/public/allocations?year=2026", headers={"If-None-Match": r.headers["ETag"]}
    )
    assert again.status_code == 304
    assert (await stack.gateway.get("/api/v1/public/allocations?year=2027")).json()["items"] == []


async def test_prefecture_reallocates_its_line_plus_own_funds(funds: Funds, api: httpx.AsyncClient) -> None:
    province = await funds.published(ACCEPTANCE)
    body = {
        "year": 2026, "parent_allocation_id": province["id"], "own_funds": "23149.79", "weights": WEIGHTS,
        "factor_values": REALLOCATION_VALUES, "units": sorted(REALLOCATION_VALUES),
    }  # fmt: skip
    r = await funds.create(body, PREFECTURE_FINANCE)
    assert r.status_code == 201, r.text
    a = r.json()
    assert (a["region_code"], a["parent_allocation_id"], a["total_amount"]) == (
        "5301",
        province["id"],
        "4000000.00",
    )
    lines = by_code(a)
    assert set(lines) == {"530102", "530103"}
    # needy 3:1 and every other factor equal between the two: 0.4·¾ + 0.6·½ = 0.6
    assert (lines["530102"]["amount"], lines["530103"]["amount"]) == ("2400000.00", "1600000.00")
    assert (await funds.create(body, PREFECTURE)).json()["code"] == "ALREADY_REALLOCATED"
    # The province's finance department does not approve a prefecture's allocation; the prefecture's does.
    assert (await funds.act(a["id"], "approve", FINANCE)).status_code == 403
    assert (await funds.act(a["id"], "approve", PREFECTURE_FINANCE)).status_code == 200
    assert (await funds.act(a["id"], "publish", PREFECTURE_FINANCE)).status_code == 200
    public = await api.get("/api/v1/public/allocations?year=2026")
    assert {x["region_code"] for x in public.json()["items"]} == {"53", "5301"}
    # Listed together, each keeps its own lines and parent (built in three queries for the page).
    listed = (await api.get("/api/v1/allocations?year=2026", headers=funds.h(PREFECTURE))).json()["items"]
    assert [(x["id"], x["parent_allocation_id"]) for x in listed] == [
        (province["id"], None),
        (a["id"], province["id"]),
    ]
    assert [len(x["lines"]) for x in listed] == [3, 2]
    assert {x["parent_allocation_id"] for x in public.json()["items"]} == {None, province["id"]}


async def test_a_directly_administered_countys_prefecture_reallocates_without_it(funds: Funds) -> None:
    one = {"needy_population": 1, "workload": 1, "fund_use": 1, "performance": 1}
    province = await funds.published(
        {**ACCEPTANCE, "units": ["5303", "530381"], "factor_values": {"5303": one, "530381": one}}
    )
    qujing = ("prefecture_official", "5303")
    body = {
        "year": 2026,
        "parent_allocation_id": province["id"],
        "weights": WEIGHTS,
        "factor_values": {"530302": one},
        "units": ["530302"],
    }
    r = await funds.create({**body, "units": ["530302", "530381"]}, qujing)
    assert (r.status_code, r.json()["code"]) == (422, "UNIT_NOT_ELIGIBLE")
    r = await funds.create(body, qujing)
    assert r.status_code == 201, r.text
    lines = by_code(r.json())
    assert lines["530302"]["amount"] == r.json()["total_amount"] == "5000000.00"


async def test_reallocation_units_by_default(funds: Funds, engine: AsyncEngine) -> None:
    """曲靖's counties but 宣威 (530381), which the province funds directly."""
    one = {"needy_population": 1, "workload": 1, "fund_use": 1, "performance": 1}
    province = await funds.published({**ACCEPTANCE, "units": ["5303"], "factor_values": {"5303": one}})
    body = {"year": 2026, "parent_allocation_id": province["id"], "weights": WEIGHTS}
    r = await funds.create(body, ("finance_official", "5303"))
    assert r.status_code == 201, r.text
    async with engine.connect() as conn:
        counties = set(
            (
                await conn.scalars(
                    text("SELECT code FROM regions WHERE parent_code = '5303' AND code <> '530381'")
                )
            ).all()
        )
    assert set(by_code(r.json())) == counties and len(counties) >= 8


@pytest.mark.parametrize(
    ("change", "who", "status", "code"),
    [
        ({"total_amount": "4000000.01"}, PREFECTURE, 422, "TOTAL_MISMATCH"),
        ({"year": 2027}, PREFECTURE, 422, "YEAR_MISMATCH"),
        ({"units": ["530102", "530627"]}, PREFECTURE, 422, "UNIT_NOT_ELIGIBLE"),
        ({}, ("prefecture_official", "5329"), 422, "NO_LINE_FOR_REGION"),
        ({}, PROVINCE_ADMIN, 403, "FORBIDDEN"),
        ({}, COUNTY, 403, "FORBIDDEN"),
    ],
)
async def test_rejected_reallocations(
    funds: Funds, change: dict[str, Any], who: tuple[str, str], status: int, code: str
) -> None:
    province = await funds.published(ACCEPTANCE)
    body = {
        "year": 2026,
        "parent_allocation_id": province["id"],
        "weights": WEIGHTS,
        "factor_values": REALLOCATION_VALUES,
    }
    r = await funds.create({**body, **change}, who)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text


async def test_only_a_published_provincial_allocation_is_reallocated(funds: Funds) -> None:
    draft = (await funds.create(ACCEPTANCE)).json()
    body = {
        "year": 2026,
        "parent_allocation_id": draft["id"],
        "weights": WEIGHTS,
        "factor_values": REALLOCATION_VALUES,
    }
    assert (await funds.create(body, PREFECTURE)).status_code == 404  # a draft is not the prefecture's to see
    await funds.act(draft["id"], "approve", FINANCE)
    assert (await funds.create(body, PREFECTURE)).status_code == 404
    await funds.act(draft["id"], "publish", FINANCE)
    assert (await funds.create(body, PREFECTURE)).status_code == 201


async def test_last_years_workload_fund_use_and_performance_are_the_defaults(
    funds: Funds, case: Case, stack: Stack, tokens: Tokens
) -> None:
    """2026 in 五华区 (昆明): work logs of 7, a tenth of 昆明's line spent, an evaluation of 88. The 2027
    allocation takes them as 昆明's defaults; the units without such data have 0."""
    api = stack.gateway
    dispatch = (await api.get(f"/api/v1/dispatches/{case.dispatch}", headers=case.county())).json()
    worker = tokens.headers("worker", dispatch["region_code"], sub=str(dispatch["person_id"]), org_id="1")
    log = {"client_id": str(uuid.uuid4()), "dispatch_id": case.dispatch, "date": "2026-11-30",
           "duty_code": "application_assistance", "program": "dibao", "quantity": 7}  # fmt: skip
    assert (await api.post("/api/v1/work-logs", json=log, headers=worker)).status_code == 201, log
    _, kunming, line = await funds.county_line()
    assert (await funds.spend(line, "397685.02", case.contract)).status_code == 201
    manual = [{"code": "quality", "name": "服务质量", "weight": "1", "source": "manual"}]
    body = {"name": "2026 年度绩效评价", "year": 2026, "indicators": manual}
    sid = (await api.post("/api/v1/indicator-systems", json=body, headers=funds.h(PROVINCE_ADMIN))).json()[
        "id"
    ]
    evaluation = {"contract_id": case.contract, "period": "2026", "indicator_system_id": sid,
                  "manual_scores": {"quality": "88"}}  # fmt: skip
    assert (await api.post("/api/v1/evaluations", json=evaluation, headers=case.county())).status_code == 201
    r = await funds.create(
        {"year": 2027, "total_amount": "1000.00", "weights": WEIGHTS, "units": ACCEPTANCE["units"]}
    )
    assert r.status_code == 201, r.text
    factors = {c: x["factors"] for c, x in by_code(r.json()).items()}
    used = (Decimal("397685.02") / Decimal("3976850.21")).quantize(Decimal("0.000001"))
    got = {
        c: (money(f["workload"]), money(f["fund_use"]), money(f["performance"])) for c, f in factors.items()
    }
    assert got == {"5301": (7, used, 88), "5303": (0, 0, 0), "530627": (0, 0, 0)}
    # The county level the same way: 五华区's own line was spent by a sixth.
    county_line = next(x for x in kunming["lines"] if x["allocation_line_id"] == line)
    province = await funds.published(
        {"year": 2027, "total_amount": "1000.00", "weights": WEIGHTS, "units": ["5301"]}
    )
    body = {
        "year": 2027,
        "parent_allocation_id": province["id"],
        "weights": WEIGHTS,
        "units": ["530102", "530103"],
    }
    r = await funds.create(body, PREFECTURE)
    assert r.status_code == 201, r.text
    mine = by_code(r.json())["530102"]["factors"]
    share = (Decimal("397685.02") / money(county_line["amount"])).quantize(Decimal("0.000001"))
    assert (money(mine["workload"]), money(mine["fund_use"]), money(mine["performance"])) == (7, share, 88)
