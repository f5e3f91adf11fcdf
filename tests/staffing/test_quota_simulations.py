"""Policy simulation (staffing.md *Policy simulation*): the draft against the baseline, checked against
deltas computed here from the units' own figures; writes nothing."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Stack, Tokens
from tests.penalties.conftest import Case

PROVINCE = ("province_admin", "53")


async def baseline(api: httpx.AsyncClient, tokens: Tokens) -> dict[str, Any]:
    sets = (await api.get("/api/v1/staffing-rule-sets", headers=tokens.headers(*PROVINCE))).json()
    return dict(sets[-1]["parameters"])


async def units(api: httpx.AsyncClient, tokens: Tokens, region: str, level: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"region": region, "level": level, "limit": "500", **({"cursor": cursor} if cursor else {})}
        body = (await api.get("/api/v1/quotas", params=params, headers=tokens.headers(*PROVINCE))).json()
        out.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return out


async def simulate(
    api: httpx.AsyncClient, tokens: Tokens, who: tuple[str, str] = PROVINCE, **body: Any
) -> httpx.Response:
    return await api.post("/api/v1/quota-simulations", json=body, headers=tokens.headers(*who))


async def counts(engine: AsyncEngine) -> tuple[int, ...]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM audit_events),"
                     " (SELECT count(*) FROM staffing_rule_sets)")
            )
        ).one()  # fmt: skip
    return tuple(row)


async def test_the_baseline_itself_changes_nothing(stack: Stack, tokens: Tokens, engine: AsyncEngine) -> None:
    before = await counts(engine)
    r = await simulate(
        stack.gateway, tokens, parameters=await baseline(stack.gateway, tokens), monthly_cost="3000.00"
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["region_code"], body["additional_staff"], body["annual_cost_delta"]) == ("53", 0, "0.00")
    for part in [body, *body["children"]]:
        for level in part["levels"].values():
            assert level["units_changed"] == 0
            assert level["required_min"]["delta"] == level["shortfall"]["delta"] == 0
    assert len(body["children"]) == 16 + 0 and body["children"][0]["region_code"] == "5301"
    assert body["levels"]["county"]["allowed_max"] == {"before": None, "after": None, "delta": None}
    assert await counts(engine) == before  # nothing written


async def test_a_county_threshold_and_divisor_changed(stack: Stack, tokens: Tokens) -> None:
    params = await baseline(stack.gateway, tokens)
    draft = {**params, "county": {**params["county"], "threshold": 20_000, "recipients_per_staff": 5_000}}
    r = await simulate(stack.gateway, tokens, parameters=draft, region="5301", monthly_cost="2850.00")
    assert r.status_code == 200, r.text
    old, new = params["county"], draft["county"]

    def minimum(n: int, rule: dict[str, int]) -> int:
        return (
            rule["minimum_at_or_below"]
            if n <= rule["threshold"]
            else math.ceil(n / rule["recipients_per_staff"])
        )

    counties = await units(stack.gateway, tokens, "5301", "county")
    assert counties
    expected_req = sum(
        minimum(u["dibao_recipients"] or 0, new) - minimum(u["dibao_recipients"] or 0, old) for u in counties
    )
    expected_short = sum(
        max(minimum(u["dibao_recipients"] or 0, new) - u["total"], 0)
        - max(minimum(u["dibao_recipients"] or 0, old) - u["total"], 0)
        for u in counties
    )
    county = r.json()["levels"]["county"]
    assert county["units"] == len(counties)
    assert county["required_min"]["before"] == sum(u["required_min"] for u in counties)
    assert county["required_min"]["delta"] == expected_req
    assert county["shortfall"]["delta"] == expected_short
    assert county["units_changed"] == sum(
        minimum(u["dibao_recipients"] or 0, new) != minimum(u["dibao_recipients"] or 0, old) for u in counties
    )
    assert r.json()["levels"]["township"]["required_min"]["delta"] == 0  # untouched levels
    assert r.json()["additional_staff"] == expected_short
    assert r.json()["annual_cost_delta"] == f"{expected_short * 2850 * 12:.2f}"
    by_child = {c["region_code"]: c for c in r.json()["children"]}
    for u in counties:
        n = u["dibao_recipients"] or 0
        change = by_child[u["region_code"]]["levels"]["county"]["required_min"]["delta"]
        assert change == minimum(n, new) - minimum(n, old), u["region_code"]


async def test_a_village_minimum_raised(stack: Stack, tokens: Tokens) -> None:
    params = await baseline(stack.gateway, tokens)
    draft = {**params, "village": {**params["village"], "minimum": params["village"]["minimum"] + 1}}
    r = await simulate(stack.gateway, tokens, parameters=draft, region="530102", monthly_cost="1000.00")
    villages = await units(stack.gateway, tokens, "530102", "village")
    village = r.json()["levels"]["village"]
    low, high = params["village"]["minimum"], params["village"]["minimum"] + 1
    assert village["required_min"] == {
        "before": low * len(villages),
        "after": high * len(villages),
        "delta": len(villages),
    }
    assert village["shortfall"]["delta"] == sum(
        max(high - u["total"], 0) - max(low - u["total"], 0) for u in villages
    )
    assert village["units_changed"] == len(villages)
    assert village["allowed_max"]["delta"] == 0
    assert r.json()["levels"]["county"]["units"] == 1
    assert [c["levels"]["county"] for c in r.json()["children"]] == [None] * len(r.json()["children"])


async def test_monthly_cost_defaults_to_the_mean_wage(stack: Stack, tokens: Tokens) -> None:
    params = await baseline(stack.gateway, tokens)
    r = await simulate(stack.gateway, tokens, parameters=params, region="530102")
    assert r.json()["monthly_cost"] == "0.00"  # no dispatch active: nothing to average


@pytest.mark.parametrize(
    ("change", "who", "status", "code"),
    [
        ({"region": "530103"}, ("county_official", "530102"), 404, "NOT_FOUND"),
        ({"region": "53"}, ("county_official", "530102"), 404, "NOT_FOUND"),
        ({"parameters": {"county": {"threshold": -1}}}, PROVINCE, 422, "VALIDATION_FAILED"),
        ({"parameters": {"county": {"recipients_per_staff": 0}}}, PROVINCE, 422, "VALIDATION_FAILED"),
        ({"parameters": {"colour": "red"}}, PROVINCE, 422, "VALIDATION_FAILED"),
        ({"as_of": "2026-13"}, PROVINCE, 422, "VALIDATION_FAILED"),
        ({"baseline_rule_set_id": 99999}, PROVINCE, 422, "RULE_SET_NOT_FOUND"),
        ({"monthly_cost": "1.001"}, PROVINCE, 422, "VALIDATION_FAILED"),
        ({}, ("contractor", "530102"), 403, "FORBIDDEN"),
    ],
)
async def test_rejected_simulations(
    stack: Stack, tokens: Tokens, change: dict[str, Any], who: tuple[str, str], status: int, code: str
) -> None:
    body = {"parameters": await baseline(stack.gateway, tokens), **change}
    r = await simulate(stack.gateway, tokens, who, **body)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text


async def test_a_county_simulates_its_own(stack: Stack, tokens: Tokens) -> None:
    params = await baseline(stack.gateway, tokens)
    r = await simulate(stack.gateway, tokens, ("county_official", "530102"), parameters=params)
    assert (r.status_code, r.json()["region_code"]) == (200, "530102")


async def test_exported_one_row_per_child_region(stack: Stack, tokens: Tokens) -> None:
    params = await baseline(stack.gateway, tokens)
    r = await stack.gateway.post(
        "/api/v1/quota-simulations?format=csv", json={"parameters": params, "region": "5301"},
        headers=tokens.headers(*PROVINCE),
    )  # fmt: skip
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    as_json = await simulate(stack.gateway, tokens, parameters=params, region="5301")
    assert [x["region_code"] for x in rows] == [c["region_code"] for c in as_json.json()["children"]]
    assert "levels.county.required_min.delta" in rows[0] and rows[0]["levels.township.units"] != ""


async def test_monthly_cost_is_the_mean_wage_of_active_dispatches(
    stack: Stack, tokens: Tokens, case: Case
) -> None:
    """One worker dispatched in 五华区 at 2,850.00 a month: that is the cost per additional worker."""
    params = await baseline(stack.gateway, tokens)
    draft = {**params, "village": {**params["village"], "minimum": params["village"]["minimum"] + 1}}
    r = await simulate(stack.gateway, tokens, parameters=draft, region="530102")
    assert r.json()["monthly_cost"] == "2850.00"
    extra = r.json()["additional_staff"]
    assert extra > 0 and r.json()["annual_cost_delta"] == f"{extra * 2850 * 12:.2f}"
    elsewhere = await simulate(stack.gateway, tokens, parameters=draft, region="530103")
    assert elsewhere.json()["monthly_cost"] == "0.00"


async def test_one_village_tier_is_a_plain_ceiling(stack: Stack, tokens: Tokens) -> None:
    """A draft with a single village tier (one ceiling for every village) simulates; it was a 500,
    found by the fuzzer: the SQL for the tiers had a CASE with no WHEN."""
    params = await baseline(stack.gateway, tokens)
    draft = {**params, "village": {**params["village"], "tiers": [{"population_from": 0, "maximum": 2}]}}
    r = await simulate(stack.gateway, tokens, parameters=draft, region="530102")
    assert r.status_code == 200, r.text
    village = r.json()["levels"]["village"]
    assert village["allowed_max"]["after"] == 2 * village["units"]


@pytest.mark.parametrize(("monthly_cost", "status"), [("6936722474", 422), ("3000.00", 200)])
async def test_a_cost_beyond_any_stated_sum_is_refused_not_a_500(
    stack: Stack, tokens: Tokens, monthly_cost: str, status: int
) -> None:
    """A draft whose annual cost no NUMERIC(16,2) can hold (the fuzzer's find: a 500) is a 422 with
    its own code; the same draft at a real wage simulates."""
    params = await baseline(stack.gateway, tokens)
    draft = {**params, "township": {**params["township"], "minimum_at_or_below": 306_084}}
    r = await simulate(stack.gateway, tokens, parameters=draft, monthly_cost=monthly_cost)
    assert r.status_code == status, r.text
    if status == 422:
        assert r.json()["code"] == "SIMULATION_OUT_OF_RANGE"
