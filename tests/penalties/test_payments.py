"""Payments: contract_api records the payment, penalty_api settles the deductions against it, the
payment shows gross, applied and net; one payment per contract and period."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.models import Contract
from tests.penalties.conftest import Case


async def _pay(
    case: Case, gross: str, period: str = "2026-03", **headers: str
) -> tuple[int, dict[str, object]]:
    r = await case.world.api.post(
        f"/api/v1/contracts/{case.contract}/payments",
        json={"period": period, "gross_amount": gross},
        headers={**case.county(), **headers},
    )
    return r.status_code, dict(r.json())


async def test_payments_settle_the_acceptance_deductions(case: Case) -> None:
    await case.confirmed("1.5")
    await case.confirmed("3")
    status, first = await _pay(case, "10000.00")
    assert status == 201, first
    assert (first["status"], first["deductions_applied"], first["net_amount"], first["payment_ref"]) == (
        "completed", "10000.00", "0.00", f"contract-{case.contract}-2026-03",
    )  # fmt: skip
    status, second = await _pay(case, "30000.00", "2026-04")
    assert (status, second["deductions_applied"], second["net_amount"]) == (201, "2825.00", "27175.00")
    status, again = await _pay(case, "30000.00", "2026-04")
    assert status == 200 and again == second
    assert [e["entry_type"] for e in await case.entries()] == [
        "deduction",
        "deduction",
        "settlement",
        "settlement",
    ]
    status, other = await _pay(case, "1.00", "2026-04")
    assert status == 409 and other["code"] == "PAYMENT_EXISTS"
    listed = await case.world.api.get(f"/api/v1/contracts/{case.contract}/payments", headers=case.world.h)
    assert [p["period"] for p in listed.json()] == ["2026-03", "2026-04"]


async def test_payment_rules_and_roles(case: Case) -> None:
    status, body = await _pay(case, "100.00", "2026-Q1")
    assert status == 422 and body["code"] == "PERIOD_MISMATCH"  # the contract pays monthly
    t = case.tokens
    for headers, expected in ((t.headers("county_official", "530103"), 404), (case.world.h, 403),
                              (t.headers("auditor", "53"), 403)):  # fmt: skip
        status, _ = await _pay(case, "100.00", **headers)
        assert status == expected
    status, body = await _pay(case, "100.001")
    assert status == 422
    assert await case.entries() == []


async def test_the_same_idempotency_key_replays(case: Case) -> None:
    await case.confirmed("1")
    status, first = await _pay(case, "5000.00", **{"Idempotency-Key": "pay-march"})
    status2, second = await _pay(case, "5000.00", **{"Idempotency-Key": "pay-march"})
    assert (status, status2) == (201, 201) and first == second
    assert [e["entry_type"] for e in await case.entries()] == ["deduction", "settlement"]


async def test_a_contract_not_yet_begun_is_not_paid(case: Case, engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(update(Contract).where(Contract.id == case.contract).values(status="acknowledged"))
    status, body = await _pay(case, "100.00")
    assert status == 422 and body["code"] == "CONTRACT_NOT_PAYABLE"
    listed = await case.world.api.get(f"/api/v1/contracts/{case.contract}/payments", headers=case.county())
    assert listed.json() == []
