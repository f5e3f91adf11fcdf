"""Indicator systems, evaluations (manual and automatic indicators, totals, grades at their exact
boundaries, termination after two consecutive fails) and satisfaction surveys."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Stack, Tokens
from tests.funds.conftest import COUNTY, PROVINCE_ADMIN
from tests.penalties.conftest import Case

AUTO = [
    {"code": "payroll", "name": "按月发放薪酬并办理社保", "weight": "0.25", "source": "auto",
     "metric": "payroll_compliance_rate"},
    {"code": "clean", "name": "无违规", "weight": "0.25", "source": "auto", "metric": "violation_free_rate"},
    {"code": "satisfied", "name": "满意", "weight": "0.25", "source": "auto", "metric": "satisfaction_rate"},
    {"code": "filled", "name": "岗位到岗率", "weight": "0.25", "source": "auto", "metric": "post_fill_rate"},
]  # fmt: skip
MANUAL = [{"code": "quality", "name": "服务质量", "weight": "1", "source": "manual"}]
HALVES = [
    {"code": "quality", "name": "服务质量", "weight": "0.5", "source": "manual"},
    {"code": "records", "name": "档案管理", "weight": "0.5", "source": "manual"},
]


async def system(
    api: httpx.AsyncClient, tokens: Tokens, indicators: list[dict[str, Any]], year: int = 2026
) -> int:
    body = {"name": f"{year} 年度购买社会救助服务绩效评价", "year": year, "indicators": indicators}
    r = await api.post("/api/v1/indicator-systems", json=body, headers=tokens.headers(*PROVINCE_ADMIN))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def evaluate(case: Case, system_id: int, period: str, **scores: str) -> httpx.Response:
    body = {
        "contract_id": case.contract,
        "period": period,
        "indicator_system_id": system_id,
        "manual_scores": scores,
    }
    return await case.world.api.post("/api/v1/evaluations", json=body, headers=case.county())


@pytest.mark.parametrize(
    ("indicators", "code"),
    [
        ([{**MANUAL[0], "weight": "0.99"}], "WEIGHTS_INVALID"),
        ([HALVES[0], {**HALVES[1], "weight": "0.51"}], "WEIGHTS_INVALID"),
        ([{**AUTO[0], "weight": "1", "metric": None}], "INDICATOR_INVALID"),
        ([{**MANUAL[0], "metric": "post_fill_rate"}], "INDICATOR_INVALID"),
        ([HALVES[0], {**HALVES[1], "code": "quality"}], "INDICATOR_INVALID"),
        ([{**MANUAL[0], "weight": "0"}], "VALIDATION_FAILED"),
        ([{**AUTO[0], "weight": "1", "metric": "happiness"}], "VALIDATION_FAILED"),
    ],
)
async def test_rejected_indicator_systems(
    api: httpx.AsyncClient, tokens: Tokens, indicators: Any, code: str
) -> None:
    body = {"name": "指标", "year": 2026, "indicators": indicators}
    r = await api.post("/api/v1/indicator-systems", json=body, headers=tokens.headers(*PROVINCE_ADMIN))
    assert (r.status_code, r.json()["code"]) == (422, code), r.text


@pytest.mark.parametrize("target", ["gateway", "direct"], indirect=True)
async def test_who_manages_indicator_systems(api: httpx.AsyncClient, tokens: Tokens) -> None:
    body = {"name": "指标", "year": 2026, "indicators": MANUAL}
    for who in (COUNTY, ("finance_official", "53"), ("auditor", "53")):
        assert (
            await api.post("/api/v1/indicator-systems", json=body, headers=tokens.headers(*who))
        ).status_code == 403
    sid = await system(api, tokens, MANUAL)
    for who in (COUNTY, ("contractor", "530102")):
        got = await api.get(f"/api/v1/indicator-systems/{sid}", headers=tokens.headers(*who, org_id="1"))
        assert got.status_code == 200 and got.json()["indicators"][0]["code"] == "quality"
    listed = await api.get("/api/v1/indicator-systems?year=2026", headers=tokens.headers(*COUNTY))
    assert [x["id"] for x in listed.json()["items"]] == [sid]


@pytest.mark.parametrize(
    ("score", "grade"),
    [("59.99", "fail"), ("60.00", "pass"), ("79.99", "pass"), ("80.00", "good"), ("89.99", "good"),
     ("90.00", "excellent"), ("0", "fail"), ("100", "excellent")],
)  # fmt: skip
async def test_grade_boundaries(case: Case, score: str, grade: str) -> None:
    sid = await system(case.world.api, case.tokens, MANUAL)
    r = await evaluate(case, sid, "2026", quality=score)
    assert r.status_code == 201, r.text
    assert (r.json()["total"], r.json()["grade"]) == (f"{float(score):.2f}", grade)
    assert r.json()["termination_recommended"] is False


async def test_the_total_is_rounded_half_up_before_grading(case: Case) -> None:
    sid = await system(case.world.api, case.tokens, HALVES)
    r = await evaluate(case, sid, "2026", quality="59.99", records="60.00")  # 59.995
    assert (r.json()["total"], r.json()["grade"]) == ("60.00", "pass")


async def test_automatic_indicators_from_the_data(case: Case, stack: Stack) -> None:
    """2026-Q1 of one dispatched worker on three posts: January paid in full, February underpaid,
    March not recorded (1/3); one confirmed violation per worker (0); surveys 5, 4, 3, 1 (1/2)."""
    api, h = case.world.api, case.world.h
    for month, wage, paid_on in (("2026-01", "2850.00", "2026-02-10"), ("2026-02", "2849.99", "2026-03-10")):
        body = {"gross_wage": wage, "paid_on": paid_on, "social_insurance_paid": True}
        r = await api.put(f"/api/v1/dispatches/{case.dispatch}/payroll/{month}", json=body, headers=h)
        assert r.status_code == 201, r.text
    await case.confirmed()
    for score, on in (
        (5, "2026-01-15"),
        (4, "2026-02-15"),
        (3, "2026-03-15"),
        (1, "2026-03-31"),
        (1, "2026-04-01"),
    ):
        body = {"region_code": "530102001001", "contract_id": case.contract, "score": score,
                "channel": "phone", "surveyed_on": on}  # fmt: skip
        assert (
            await api.post("/api/v1/satisfaction-surveys", json=body, headers=case.county())
        ).status_code == 201
    sid = await system(api, case.tokens, AUTO)
    r = await evaluate(case, sid, "2026-Q1")
    assert r.status_code == 201, r.text
    got = {s["code"]: (s["value"], s["score"]) for s in r.json()["scores"]}
    assert got == {
        "payroll": ("0.3333", "33.33"), "clean": ("0.0000", "0.00"), "satisfied": ("0.5000", "50.00"),
        "filled": ("0.3333", "33.33"),
    }  # fmt: skip
    assert (r.json()["total"], r.json()["grade"]) == ("29.17", "fail")  # 116.66 / 4 = 29.165


async def test_an_automatic_indicator_without_data(case: Case) -> None:
    sid = await system(case.world.api, case.tokens, [{**AUTO[2], "weight": "1"}])
    r = await evaluate(case, sid, "2026-Q2")
    assert (r.status_code, r.json()["code"]) == (422, "METRIC_NO_DATA")


@pytest.mark.parametrize(
    ("period", "scores", "status", "code"),
    [
        ("2026", {}, 422, "MANUAL_SCORES_INVALID"),
        ("2026", {"quality": "70", "extra": "1"}, 422, "MANUAL_SCORES_INVALID"),
        ("2026", {"quality": "100.01"}, 422, "VALIDATION_FAILED"),
        ("2026-Q5", {"quality": "70"}, 422, "VALIDATION_FAILED"),
        ("2027", {"quality": "70"}, 422, "INDICATOR_SYSTEM_YEAR"),
    ],
)
async def test_rejected_evaluations(
    case: Case, period: str, scores: dict[str, str], status: int, code: str
) -> None:
    sid = await system(case.world.api, case.tokens, MANUAL)
    r = await evaluate(case, sid, period, **scores)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text


async def test_outside_the_contracts_term_and_twice(case: Case) -> None:
    api = case.world.api
    old = await system(api, case.tokens, MANUAL, year=2025)
    assert (await evaluate(case, old, "2025", quality="70")).json()["code"] == "PERIOD_OUTSIDE_TERM"
    sid = await system(api, case.tokens, MANUAL)
    assert (await evaluate(case, sid, "2026", quality="70")).status_code == 201
    again = await evaluate(case, sid, "2026", quality="71")
    assert (again.status_code, again.json()["code"]) == (409, "EVALUATION_EXISTS")


@pytest.mark.parametrize("target", ["gateway", "direct"], indirect=True)
async def test_who_evaluates_and_who_reads(case: Case) -> None:
    api, tokens = case.world.api, case.tokens
    sid = await system(api, tokens, MANUAL)
    body = {
        "contract_id": case.contract,
        "period": "2026",
        "indicator_system_id": sid,
        "manual_scores": {"quality": "70"},
    }
    for who in (("county_official", "530103"), ("county_official", "530102001")):
        assert (
            await api.post("/api/v1/evaluations", json=body, headers=tokens.headers(*who))
        ).status_code == 404
    for who in (("prefecture_official", "5301"), ("auditor", "53"), ("finance_official", "530102")):
        assert (
            await api.post("/api/v1/evaluations", json=body, headers=tokens.headers(*who))
        ).status_code == 403
    assert (await api.post("/api/v1/evaluations", json=body, headers=case.world.h)).status_code == 403
    r = await api.post("/api/v1/evaluations", json=body, headers=tokens.headers(*PROVINCE_ADMIN))
    assert r.status_code == 201, r.text
    path = f"/api/v1/evaluations/{r.json()['id']}"
    assert (await api.get(path, headers=case.world.h)).status_code == 200  # its contractor
    assert (
        await api.get(path, headers=tokens.headers("contractor", "530102", org_id="999999"))
    ).status_code == 404
    assert (await api.get(path, headers=tokens.headers("county_official", "530103"))).status_code == 404
    mine = await api.get("/api/v1/evaluations", headers=case.world.h)
    assert [x["id"] for x in mine.json()["items"]] == [r.json()["id"]]
    other = await api.get("/api/v1/evaluations", headers=tokens.headers("county_official", "530103"))
    assert other.json()["items"] == []


async def test_two_consecutive_fails_recommend_termination(case: Case) -> None:
    api = case.world.api
    sid = await system(api, case.tokens, MANUAL)
    assert (await evaluate(case, sid, "2026-Q1", quality="59.99")).json()["termination_recommended"] is False
    assert (await evaluate(case, sid, "2026", quality="10")).json()[
        "termination_recommended"
    ] is False  # a year
    assert (await evaluate(case, sid, "2026-Q3", quality="10")).json()["termination_recommended"] is False
    contract = await api.get(f"/api/v1/contracts/{case.contract}", headers=case.county())
    assert contract.json()["termination_recommended"] is False
    second = await evaluate(case, sid, "2026-Q2", quality="59.99")  # between two fails, filed late
    assert (second.json()["grade"], second.json()["termination_recommended"]) == ("fail", True)
    contract = await api.get(f"/api/v1/contracts/{case.contract}", headers=case.county())
    assert contract.json()["termination_recommended"] is True


async def test_a_pass_between_keeps_the_contract(case: Case) -> None:
    api = case.world.api
    sid = await system(api, case.tokens, MANUAL)
    await evaluate(case, sid, "2026-Q1", quality="59.99")
    assert (await evaluate(case, sid, "2026-Q2", quality="60")).json()["termination_recommended"] is False
    assert (await evaluate(case, sid, "2026-Q3", quality="0")).json()["termination_recommended"] is False
    contract = await api.get(f"/api/v1/contracts/{case.contract}", headers=case.county())
    assert contract.json()["termination_recommended"] is False


async def test_satisfaction_rate_per_region_and_contract(case: Case) -> None:
    api, h = case.world.api, case.county()
    for region, score, contract in (
        ("530102001001", 5, case.contract), ("530102001001", 4, None), ("530102001", 3, case.contract),
        ("530102", 2, None),
    ):  # fmt: skip
        body = {"region_code": region, "contract_id": contract, "score": score, "channel": "visit"}
        assert (await api.post("/api/v1/satisfaction-surveys", json=body, headers=h)).status_code == 201
    county = await api.get("/api/v1/satisfaction-surveys/rate", headers=h)
    assert county.json() == {
        "region": "530102",
        "contract_id": None,
        "surveys": 4,
        "satisfied": 2,
        "rate": "0.5000",
    }
    village = await api.get("/api/v1/satisfaction-surveys/rate?region=530102001001", headers=h)
    assert (village.json()["surveys"], village.json()["rate"]) == (2, "1.0000")
    contract = await api.get(
        f"/api/v1/satisfaction-surveys/rate?contract_id={case.contract}", headers=case.world.h
    )
    assert (contract.json()["surveys"], contract.json()["satisfied"], contract.json()["rate"]) == (
        2,
        1,
        "0.5000",
    )
    none = await api.get(
        "/api/v1/satisfaction-surveys/rate?region=530103", headers=case.tokens.headers(*PROVINCE_ADMIN)
    )
    assert (none.json()["surveys"], none.json()["rate"]) == (0, None)
    assert (await api.get("/api/v1/satisfaction-surveys/rate?region=530103", headers=h)).status_code == 404
    listed = await api.get("/api/v1/satisfaction-surveys?region=530102001", headers=h)
    assert len(listed.json()["items"]) == 3


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"score": 0}, 422, "VALIDATION_FAILED"),
        ({"score": 6}, 422, "VALIDATION_FAILED"),
        ({"channel": "pigeon"}, 422, "VALIDATION_FAILED"),
        ({"region_code": "5301"}, 422, "REGION_LEVEL"),
        ({"region_code": "530103"}, 404, "NOT_FOUND"),
        ({"region_code": "530103", "who": PROVINCE_ADMIN}, 422, "REGION_OUTSIDE_CONTRACT"),
        ({"surveyed_on": "2099-01-01"}, 422, "DATE_IN_FUTURE"),
        ({"who": ("auditor", "530102")}, 403, "FORBIDDEN"),
    ],
)
async def test_rejected_surveys(case: Case, change: dict[str, Any], status: int, code: str) -> None:
    who = change.pop("who", COUNTY)
    body = {
        "region_code": "530102001001",
        "contract_id": case.contract,
        "score": 4,
        "channel": "phone",
        **change,
    }
    r = await case.world.api.post(
        "/api/v1/satisfaction-surveys", json=body, headers=case.tokens.headers(*who)
    )
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
