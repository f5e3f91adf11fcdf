"""penalty_api through the gateway and straight to the service, on a contracted county with one
dispatched worker (2850.00 a month) in 华山街道's first village."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Stack, Tokens
from tests.contracts.conftest import World, make_world

COUNTY = ("county_official", "530102")
TOWNSHIP = ("township_official", "530102001")
FOUND = {
    "kind": "falsification", "occurred_on": "2026-03-01", "discovered_on": "2026-03-05",
    "description": "伪造入户走访记录", "evidence": [{"name": "走访记录.pdf", "sha256": "a" * 64}],
}  # fmt: skip


@dataclass
class Case:
    penalty: httpx.AsyncClient
    world: World
    tokens: Tokens
    dispatch: int

    @property
    def contract(self) -> int:
        return self.world.contract

    def county(self) -> dict[str, str]:
        return self.tokens.headers(*COUNTY)

    async def violation(self, *, who: tuple[str, str] = COUNTY, **change: Any) -> httpx.Response:
        body = {"dispatch_id": self.dispatch, **FOUND, **change}
        return await self.penalty.post("/api/v1/violations", json=body, headers=self.tokens.headers(*who))

    async def confirmed(self, multiplier: str = "1.5", **change: Any) -> dict[str, Any]:
        r = await self.violation(multiplier=multiplier, **change)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def settle(self, gross: str, ref: str, period: str = "2026-03") -> httpx.Response:
        body = {"contract_id": self.contract, "period": period, "gross_amount": gross, "payment_ref": ref}
        return await self.penalty.post("/api/v1/settlements", json=body, headers=self.county())

    async def balance(self) -> dict[str, str]:
        r = await self.penalty.get(f"/api/v1/ledger/{self.contract}/balance", headers=self.county())
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def entries(self) -> list[dict[str, Any]]:
        r = await self.penalty.get(
            f"/api/v1/ledger/{self.contract}/entries", params={"limit": 500}, headers=self.county()
        )
        return list(r.json()["items"])


@pytest.fixture
def penalty_api(stack: Stack, target: str) -> httpx.AsyncClient:
    return stack.gateway if target == "gateway" else stack.direct["penalty"]


@pytest.fixture
async def case(
    penalty_api: httpx.AsyncClient, stack: Stack, target: str, tokens: Tokens, engine: AsyncEngine
) -> Case:
    contract_api = stack.gateway if target == "gateway" else stack.direct["contract"]
    world = await make_world(contract_api, stack.client(target), tokens, engine)
    await world.population(5_000)
    r = await world.dispatch(await world.person())
    assert r.status_code == 201, r.text
    return Case(penalty_api, world, tokens, int(r.json()["id"]))
