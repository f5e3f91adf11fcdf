"""A Hypothesis state machine drives deduct / reverse / settle / retry through penalty_api in any
order, and after every step checks: the balance is the sum of the entries, each violation has at most
one deduction, each appeal one reversal, each payment_ref one settlement, and the chain verifies.

Hypothesis runs synchronously, so the machine runs in a thread of its own with its own event loop and
its own penalty_api instance (lifespan and all) on this test's database."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from services.common.models import Person
from services.common.settings import Settings
from services.penalty_api.app import create_app as create_penalty
from tests.conftest import Tokens
from tests.staffing.factories import contract as make_contract
from tests.staffing.factories import dispatch as make_dispatch

COUNTY = ("county_official", "530102")


class Harness:
    """One loop, one penalty_api and one engine for every run of the machine."""

    def __init__(self, app_settings: Settings, db_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.db_url, self.tokens = db_url, Tokens(app_settings)
        self.app = create_penalty(app_settings, db_url)
        self.lifespan = self.app.router.lifespan_context(self.app)
        self.run(self.lifespan.__aenter__())
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://penalty.test"
        )
        self.engine = create_async_engine(db_url)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.client.aclose())
        self.run(self.engine.dispose())
        self.run(self.lifespan.__aexit__(None, None, None))
        self.loop.close()

    async def new_contract(self, n: int) -> tuple[int, int, int]:
        """A fresh active contract, its contractor and one dispatch (2850.00 a month)."""
        contract = await make_contract(self.engine, "530102", contractor_id=7000 + n)
        async with self.engine.begin() as conn:
            person = (
                await conn.execute(
                    insert(Person)
                    .values(name="x", id_number_hash=os.urandom(32), id_number_encrypted=b"-",
                            id_number_masked="-", birth_date=date(1990, 1, 1), education="senior_high",
                            region_code="530102001001")
                    .returning(Person.id)
                )
            ).scalar_one()  # fmt: skip
        d = await make_dispatch(self.engine, contract, int(person), "530102001001", start=date(2025, 1, 1))
        return contract, 7000 + n, d


class LedgerMachine(RuleBasedStateMachine):
    harness: Harness
    runs = 0
    violations = Bundle("violations")

    @initialize()
    def fresh_contract(self) -> None:
        LedgerMachine.runs += 1
        h = self.harness
        self.contract, contractor, self.dispatch = h.run(h.new_contract(LedgerMachine.runs))
        self.county = h.tokens.headers(*COUNTY)
        self.contractor = h.tokens.headers("contractor", "530102", org_id=str(contractor))
        self.appealed: set[int] = set()
        self.payments: dict[str, dict[str, Any]] = {}

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        return self.harness.run(self.harness.client.post(path, json=body, headers=headers))

    def get(self, path: str) -> Any:
        return self.harness.run(self.harness.client.get(path, headers=self.county)).json()

    @rule(target=violations, multiplier=st.sampled_from(["1", "1.5", "2.37", "3"]))
    def deduct(self, multiplier: str) -> int:
        r = self.post("/api/v1/violations", {
            "dispatch_id": self.dispatch, "kind": "carelessness", "occurred_on": "2026-03-01",
            "discovered_on": "2026-03-02", "description": "台账", "multiplier": multiplier,
        }, self.county)  # fmt: skip
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    @rule(violation=violations)
    def retry_confirmation(self, violation: int) -> None:
        r = self.post(f"/api/v1/violations/{violation}/confirm", {"multiplier": "2"}, self.county)
        assert r.status_code == 409

    @rule(violation=violations)
    def reverse(self, violation: int) -> None:
        r = self.post(f"/api/v1/violations/{violation}/appeals", {"grounds": "申诉"}, self.contractor)
        if violation in self.appealed:
            assert r.status_code == 409
            return
        assert r.status_code == 201, r.text
        decided = self.post(
            f"/api/v1/appeals/{r.json()['id']}/decide", {"outcome": "upheld", "reason": "成立"}, self.county
        )
        assert decided.status_code == 200, decided.text
        self.appealed.add(violation)

    @rule(gross=st.sampled_from(["100.00", "4000.00", "20000.00"]), ref=st.integers(0, 3))
    def settle(self, gross: str, ref: int) -> None:
        key = f"c{self.contract}-p{ref}"
        body = self.payments.get(key, {}).get("body") or {
            "contract_id": self.contract,
            "period": "2026-03",
            "gross_amount": gross,
            "payment_ref": key,
        }
        r = self.post("/api/v1/settlements", body, self.county)
        if key in self.payments:  # a retry: the same answer, nothing appended
            assert r.status_code == 200 and r.json() == self.payments[key]["answer"]
        else:
            assert r.status_code == 201, r.text
            self.payments[key] = {"body": body, "answer": r.json()}

    @invariant()
    def balance_is_the_sum_of_the_entries(self) -> None:
        if not hasattr(self, "contract"):
            return
        entries = self.get(f"/api/v1/ledger/{self.contract}/entries?limit=500")["items"]
        sums = Counter[str]()
        for e in entries:
            sums[e["entry_type"]] += Decimal(e["amount"])  # type: ignore[assignment]
        balance = self.get(f"/api/v1/ledger/{self.contract}/balance")
        assert Decimal(balance["deducted"]) == sums["deduction"]
        assert Decimal(balance["reversed"]) == sums["reversal"]
        assert Decimal(balance["settled"]) == sums["settlement"]
        net = sums["deduction"] - sums["reversal"] - sums["settlement"]
        assert (Decimal(balance["outstanding"]), Decimal(balance["credit"])) == (
            max(Decimal(0), net),
            max(Decimal(0), -net),
        )
        for kind, key in (
            ("deduction", "violation_id"),
            ("reversal", "appeal_id"),
            ("settlement", "payment_ref"),
        ):
            keys = [e[key] for e in entries if e["entry_type"] == kind]
            assert len(keys) == len(set(keys)), kind
        assert len([e for e in entries if e["entry_type"] == "settlement"]) == len(self.payments)
        assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))


def _run(app_settings: Settings, db_url: str) -> None:
    harness = Harness(app_settings, db_url)
    LedgerMachine.harness = harness
    try:
        chosen = hypothesis_settings(
            max_examples=12,
            stateful_step_count=10,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        run_state_machine_as_test(LedgerMachine, settings=chosen)
    finally:
        harness.close()
    assert LedgerMachine.runs >= 12  # the machine really ran


async def test_deduct_reverse_settle_retry_in_any_order(
    settings: Settings, db_url: str, stack: object
) -> None:
    await asyncio.to_thread(_run, settings, db_url)
