"""Expenditures against allocation lines (§五 专款专用): forbidden categories, the balance under
concurrent spends, a payment booked once, and fund execution."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.contracts.conftest import World
from tests.funds.conftest import ACCEPTANCE, COUNTY, FINANCE, WEIGHTS, Funds, money

FORBIDDEN = ["three_public_costs", "working_funds", "equipment", "construction"]


@pytest.mark.parametrize("category", FORBIDDEN)
async def test_every_forbidden_category(funds: Funds, world: World, category: str) -> None:
    _, _, line = await funds.county_line()
    r = await funds.spend(line, "100.00", world.contract, category=category)
    assert (r.status_code, r.json()["code"]) == (422, "EXPENDITURE_CATEGORY_FORBIDDEN")


async def test_an_unknown_category_is_invalid(funds: Funds, world: World) -> None:
    _, _, line = await funds.county_line()
    r = await funds.spend(line, "100.00", world.contract, category="banquets")
    assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_FAILED")


async def test_a_service_purchase_within_the_balance_and_up_to_it(
    funds: Funds, world: World, api: httpx.AsyncClient
) -> None:
    _, kunming, line = await funds.county_line()
    amount = money(next(x for x in kunming["lines"] if x["allocation_line_id"] == line)["amount"])
    r = await funds.spend(line, f"{amount - Decimal('0.01'):.2f}", world.contract)
    assert r.status_code == 201, r.text
    assert (r.json()["region_code"], r.json()["category"]) == ("530102", "service_purchase")
    over = await funds.spend(line, "0.02", world.contract)
    assert (over.status_code, over.json()["code"]) == (422, "INSUFFICIENT_FUNDS")
    assert (await funds.spend(line, "0.01", world.contract)).status_code == 201  # exactly the balance
    got = await api.get(f"/api/v1/allocations/{kunming['id']}", headers=funds.h(COUNTY))
    spent = next(x for x in got.json()["lines"] if x["allocation_line_id"] == line)
    assert (money(spent["spent"]), spent["remaining"]) == (amount, "0.00")
    listed = await api.get(
        f"/api/v1/expenditures?allocation_line_id={line}&year=2026", headers=funds.h(COUNTY)
    )
    assert len(listed.json()["items"]) == 2


async def test_twenty_parallel_spends_of_a_tenth(funds: Funds, world: World, engine: AsyncEngine) -> None:
    """20 concurrent spends of 10 % of a line: exactly 10 succeed and the balance is never negative."""
    _, kunming, line = await funds.county_line()
    amount = money(next(x for x in kunming["lines"] if x["allocation_line_id"] == line)["amount"])
    tenth = (amount / 10).quantize(Decimal("0.01"))
    assert tenth * 10 == amount  # 2,400,000.00 shares into tenths exactly
    answers = await asyncio.gather(*(funds.spend(line, f"{tenth:.2f}", world.contract) for _ in range(20)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] * 10 + [422] * 10, [r.text for r in answers if r.status_code not in (201, 422)]
    assert {r.json()["code"] for r in answers if r.status_code == 422} == {"INSUFFICIENT_FUNDS"}
    async with engine.connect() as conn:
        spent, rows = (
            await conn.execute(
                text("SELECT l.spent, (SELECT count(*) FROM expenditures e WHERE e.allocation_line_id = l.id)"
                     " FROM allocation_lines l WHERE l.id = :id"),
                {"id": line},
            )
        ).one()  # fmt: skip
    assert (spent, rows) == (amount, 10)


async def test_the_database_holds_the_balance_whatever_the_application_does(
    funds: Funds, world: World, engine: AsyncEngine
) -> None:
    _, _, line = await funds.county_line()
    async with engine.begin() as conn:
        with pytest.raises(Exception, match="balance_non_negative"):
            await conn.execute(
                text("UPDATE allocation_lines SET spent = amount + 1 WHERE id = :id"), {"id": line}
            )


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"contract_id": None}, 422, "CONTRACT_REQUIRED"),
        ({"spent_on": "2099-01-01"}, 422, "SPENT_IN_FUTURE"),
        ({"amount": "0.00"}, 422, "VALIDATION_FAILED"),
        ({"amount": "1.001"}, 422, "VALIDATION_FAILED"),
        ({"payment_id": 999999}, 422, "PAYMENT_NOT_COMPLETED"),
    ],
)
async def test_rejected_expenditures(
    funds: Funds, world: World, change: dict[str, object], status: int, code: str
) -> None:
    _, _, line = await funds.county_line()
    contract = change.pop("contract_id", world.contract)
    r = await funds.spend(line, str(change.pop("amount", "10.00")), contract, **change)  # type: ignore[arg-type]
    assert (r.status_code, r.json()["code"]) == (status, code), r.text


@pytest.mark.parametrize("target", ["gateway", "direct"], indirect=True)
async def test_who_spends_against_which_line(funds: Funds, world: World) -> None:
    """A county only against its own line; nobody else spends."""
    province, kunming, line = await funds.county_line()
    other = next(x["allocation_line_id"] for x in kunming["lines"] if x["region_code"] == "530103")
    prefecture_line = next(x["allocation_line_id"] for x in province["lines"] if x["region_code"] == "5301")
    assert (await funds.spend(other, "1.00", world.contract)).status_code == 404
    assert (await funds.spend(prefecture_line, "1.00", world.contract)).status_code == 404
    assert (
        await funds.spend(line, "1.00", world.contract, who=("county_official", "530103"))
    ).status_code == 404
    for who in (
        FINANCE,
        ("prefecture_official", "5301"),
        ("auditor", "530102"),
        ("township_official", "530102001"),
    ):
        assert (await funds.spend(line, "1.00", world.contract, who=who)).status_code == 403
    assert (await funds.spend(line, "1.00", world.contract)).status_code == 201


async def test_only_a_published_line_is_spent(funds: Funds, world: World) -> None:
    province = await funds.published(ACCEPTANCE)
    body = {"year": 2026, "parent_allocation_id": province["id"], "weights": WEIGHTS, "units": ["530102"],
            "factor_values": {"530102": {"needy_population": 1}}}  # fmt: skip
    draft = (await funds.create(body, ("prefecture_official", "5301"))).json()
    line = draft["lines"][0]["allocation_line_id"]
    r = await funds.spend(line, "1.00", world.contract)
    assert (r.status_code, r.json()["code"]) == (422, "ALLOCATION_NOT_PUBLISHED")


async def test_a_contract_of_another_county_is_not_spent_on(
    funds: Funds, world: World, engine: AsyncEngine
) -> None:
    _, _, line = await funds.county_line()
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE contracts SET county_code = '530103' WHERE id = :id"), {"id": world.contract}
        )
    assert (await funds.spend(line, "1.00", world.contract)).status_code == 404


async def test_a_payment_is_booked_once_and_no_more_than_paid(funds: Funds, world: World) -> None:
    _, _, line = await funds.county_line()
    pay = await world.api.post(
        f"/api/v1/contracts/{world.contract}/payments", json={"period": "2026-05", "gross_amount": "8550.00"},
        headers=funds.h(COUNTY),
    )  # fmt: skip
    assert pay.status_code == 201, pay.text
    payment = pay.json()["id"]
    assert pay.json()["net_amount"] == "8550.00"  # nothing deducted
    over = await funds.spend(line, "8550.01", world.contract, payment_id=payment)
    assert (over.status_code, over.json()["code"]) == (422, "EXCEEDS_PAYMENT")
    r = await funds.spend(line, "8550.00", world.contract, payment_id=payment)
    assert (r.status_code, r.json()["payment_id"]) == (201, payment)
    again = await funds.spend(line, "1.00", world.contract, payment_id=payment)
    assert (again.status_code, again.json()["code"]) == (409, "PAYMENT_BOOKED")


async def test_fund_execution(funds: Funds, world: World, api: httpx.AsyncClient) -> None:
    """五华区 spends its whole line and more of 昆明's own funds than 盘龙区 is given: the rate is capped."""
    province, kunming, line = await funds.county_line(own_funds="1000000.00")
    mine = next(x for x in kunming["lines"] if x["allocation_line_id"] == line)
    assert money(mine["amount"]) > Decimal("1000000.00")
    await funds.spend(line, "1000000.00", world.contract)
    r = await api.get("/api/v1/fund-execution?year=2026", headers=funds.h(FINANCE))
    assert r.status_code == 200, r.text
    items = {(x["allocating_region"], x["region_code"]): x for x in r.json()["items"]}
    county = items[("5301", "530102")]
    assert (county["spent_directly"], county["spent"]) == ("1000000.00", "1000000.00")
    assert county["execution_rate"] == str(
        (Decimal("1000000") / money(mine["amount"])).quantize(Decimal("0.0001"))
    )
    prefecture = items[("53", "5301")]
    assert (prefecture["spent_directly"], prefecture["spent_by_reallocation"]) == ("0.00", "1000000.00")
    assert prefecture["allocated"] == "3976850.21"
    assert items[("53", "530627")]["execution_rate"] == "0.0000"
    assert r.json()["spent_total"] == "1000000.00"
    mine_only = await api.get("/api/v1/fund-execution?year=2026", headers=funds.h(COUNTY))
    assert {x["region_code"] for x in mine_only.json()["items"]} == {"530102"}
    assert (
        await api.get("/api/v1/fund-execution?year=2026&region=5301", headers=funds.h(COUNTY))
    ).status_code == 404
    assert (await api.get("/api/v1/fund-execution?year=2025", headers=funds.h(FINANCE))).json()["items"] == []
    assert province["id"] != kunming["id"]


async def test_execution_rate_is_capped_at_one(funds: Funds, world: World, api: httpx.AsyncClient) -> None:
    """昆明 adds own funds: its counties can spend more than the province gave it, and its rate stays 1."""
    province = await funds.published(ACCEPTANCE)
    body = {"year": 2026, "parent_allocation_id": province["id"], "weights": WEIGHTS, "units": ["530102"],
            "own_funds": "1000.00", "factor_values": {"530102": {"needy_population": 1}}}  # fmt: skip
    kunming = await funds.published(body, "5301")
    line = kunming["lines"][0]
    assert line["amount"] == "3977850.21"
    assert (await funds.spend(line["allocation_line_id"], "3977850.21", world.contract)).status_code == 201
    r = await api.get("/api/v1/fund-execution?year=2026&region=5301", headers=funds.h(FINANCE))
    items = {(x["allocating_region"], x["region_code"]): x for x in r.json()["items"]}
    assert (
        items[("53", "5301")]["spent"] == "3977850.21" and items[("53", "5301")]["execution_rate"] == "1.0000"
    )
    assert items[("5301", "530102")]["execution_rate"] == "1.0000"
