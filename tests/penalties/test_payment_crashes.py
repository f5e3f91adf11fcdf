"""The payment's two-service write under real crashes: contract_api and penalty_api run as their own
uvicorn processes, and a fault point has one of them SIGKILL itself at the worst moment. Whatever
died, the payment is found pending, the retry completes it, and the ledger holds exactly one
settlement entry for it — no deduction applied twice, none lost (payments/routes.py explains why)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.models import LedgerEntry, Payment
from tests.conftest import free_port
from tests.live import LiveService
from tests.penalties.conftest import Case

pytestmark = pytest.mark.e2e


@pytest.fixture
def target() -> str:
    """Set-up goes straight to the in-process services; the crashes happen in the live ones."""
    return "direct"


@pytest.fixture
async def live(db_url: str, data_dir: Path) -> AsyncIterator[tuple[LiveService, LiveService]]:
    penalty_port = free_port()
    penalty = LiveService("services.penalty_api.app:create_app", db_url, data_dir, penalty_port)
    contract = LiveService(
        "services.contract_api.app:create_app", db_url, data_dir, free_port(),
        env={"JIUZHU_UPSTREAM_PENALTY": f"http://127.0.0.1:{penalty_port}"},
    )  # fmt: skip
    try:
        yield contract, penalty
    finally:
        contract.stop()
        penalty.stop()


def _armed(point: str) -> dict[str, str]:
    return {"JIUZHU_FAULT_POINTS": json.dumps([point])}


async def _pay(contract: LiveService, case: Case) -> httpx.Response:
    async with httpx.AsyncClient(base_url=contract.base, timeout=30) as client:
        return await client.post(
            f"/api/v1/contracts/{case.contract}/payments",
            json={"period": "2026-03", "gross_amount": "10000.00"},
            headers=case.county(),
        )


async def _state(engine: AsyncEngine, case: Case) -> tuple[list[str], int]:
    async with engine.connect() as conn:
        statuses = list(
            (await conn.execute(select(Payment.status).where(Payment.contract_id == case.contract))).scalars()
        )
        settlements = (
            await conn.execute(
                select(func.count()).where(
                    LedgerEntry.contract_id == case.contract, LedgerEntry.entry_type == "settlement"
                )
            )
        ).scalar_one()
    return statuses, int(settlements)


async def _retry_completes(contract: LiveService, case: Case, engine: AsyncEngine) -> None:
    r = await _pay(contract, case)
    assert r.status_code == 200, r.text  # a payment recorded earlier, finished now
    assert (r.json()["status"], r.json()["deductions_applied"], r.json()["net_amount"]) == (
        "completed",
        "4275.00",
        "5725.00",
    )
    assert await _state(engine, case) == (["completed"], 1)
    again = await _pay(contract, case)
    assert again.status_code == 200 and again.json() == r.json()
    assert await _state(engine, case) == (["completed"], 1)
    verify = await case.penalty.get(
        f"/api/v1/ledger/{case.contract}/verify", headers=case.tokens.headers("auditor", "53")
    )
    assert verify.json()["ok"] is True


async def test_contract_api_killed_after_the_settlement(
    case: Case, live: tuple[LiveService, LiveService], engine: AsyncEngine
) -> None:
    contract, penalty = live
    await case.confirmed("1.5")
    await penalty.start()
    await contract.start(**_armed("payment.after_settlement"))
    with pytest.raises(httpx.HTTPError):
        await _pay(contract, case)
    assert contract.died()
    assert await _state(engine, case) == (["pending"], 1)  # settled, not yet completed
    contract.stop()
    await contract.start()
    await _retry_completes(contract, case, engine)


async def test_penalty_api_killed_before_its_commit(
    case: Case, live: tuple[LiveService, LiveService], engine: AsyncEngine
) -> None:
    contract, penalty = live
    await case.confirmed("1.5")
    await penalty.start(**_armed("settlement.before_commit"))
    await contract.start()
    r = await _pay(contract, case)
    assert r.status_code == 503 and r.json()["code"] == "SETTLEMENT_UNAVAILABLE", r.text
    assert penalty.died()
    assert await _state(engine, case) == (["pending"], 0)  # nothing settled: the insert died uncommitted
    penalty.stop()
    await penalty.start()
    await _retry_completes(contract, case, engine)


async def test_contract_api_killed_before_settling(
    case: Case, live: tuple[LiveService, LiveService], engine: AsyncEngine
) -> None:
    contract, penalty = live
    await case.confirmed("1.5")
    await penalty.start()
    await contract.start(**_armed("payment.after_pending"))
    with pytest.raises(httpx.HTTPError):
        await _pay(contract, case)
    assert await _state(engine, case) == (["pending"], 0)
    contract.stop()
    await contract.start()
    await _retry_completes(contract, case, engine)
