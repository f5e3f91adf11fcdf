"""Funds and performance through the gateway (both targets where a test asks for them), and a
contracted county with published money to spend."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Stack, Tokens
from tests.contracts.conftest import World, make_world
from tests.penalties.conftest import case, penalty_api  # noqa: F401 - fixtures of the evaluation tests

PROVINCE_ADMIN = ("province_admin", "53")
FINANCE = ("finance_official", "53")
PREFECTURE = ("prefecture_official", "5301")
PREFECTURE_FINANCE = ("finance_official", "5301")
COUNTY = ("county_official", "530102")
WEIGHTS = {"needy_population": "0.4", "workload": "0.3", "fund_use": "0.1", "performance": "0.2"}
# acceptance.md *Factor-method allocation*
ACCEPTANCE = {
    "year": 2026,
    "total_amount": "10000000.00",
    "weights": WEIGHTS,
    "units": ["5301", "5303", "530627"],
    "factor_values": {
        "5301": {"needy_population": 120000, "workload": 35000, "fund_use": "0.95", "performance": "88.5"},
        "5303": {"needy_population": 95000, "workload": 41000, "fund_use": "0.80", "performance": "91.0"},
        "530627": {"needy_population": 60000, "workload": 12000, "fund_use": "1.00", "performance": "76.0"},
    },
}
# 五华区 and 盘龙区 share 5301's line; the rest of 昆明's counties have no figures, so they get nothing.
REALLOCATION_VALUES = {
    "530102": {"needy_population": 3000, "workload": 100, "fund_use": 1, "performance": 80},
    "530103": {"needy_population": 1000, "workload": 100, "fund_use": 1, "performance": 80},
}


@pytest.fixture
def api(stack: Stack, target: str) -> httpx.AsyncClient:
    return stack.gateway if target == "gateway" else stack.direct["contract"]


class Funds:
    def __init__(self, api: httpx.AsyncClient, tokens: Tokens) -> None:
        self.api, self.tokens = api, tokens

    def h(self, who: tuple[str, str]) -> dict[str, str]:
        return self.tokens.headers(*who)

    async def create(self, body: dict[str, Any], who: tuple[str, str] = PROVINCE_ADMIN) -> httpx.Response:
        return await self.api.post("/api/v1/allocations", json=body, headers=self.h(who))

    async def act(self, allocation: int, action: str, who: tuple[str, str], **headers: str) -> httpx.Response:
        return await self.api.post(
            f"/api/v1/allocations/{allocation}/{action}", headers={**self.h(who), **headers}
        )

    async def published(self, body: dict[str, Any], level: str = "53") -> dict[str, Any]:
        who = PROVINCE_ADMIN if level == "53" else PREFECTURE
        r = await self.create(body, who)
        assert r.status_code == 201, r.text
        finance = ("finance_official", level)
        assert (await self.act(r.json()["id"], "approve", finance)).status_code == 200
        r = await self.act(r.json()["id"], "publish", finance)
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def county_line(self, own_funds: str = "23149.79") -> tuple[dict[str, Any], dict[str, Any], int]:
        """The province's acceptance allocation published, 昆明's re-allocation published; the
        allocations and 五华区's line."""
        province = await self.published(ACCEPTANCE)
        body = {
            "year": 2026, "parent_allocation_id": province["id"], "own_funds": own_funds, "weights": WEIGHTS,
            "factor_values": REALLOCATION_VALUES, "units": sorted(REALLOCATION_VALUES),
        }  # fmt: skip
        kunming = await self.published(body, "5301")
        line = next(x for x in kunming["lines"] if x["region_code"] == "530102")
        return province, kunming, int(line["allocation_line_id"])

    async def spend(
        self, line: int, amount: str, contract: int | None, who: tuple[str, str] = COUNTY, **change: Any
    ) -> httpx.Response:
        body = {
            "allocation_line_id": line, "amount": amount, "category": "service_purchase",
            "contract_id": contract, "spent_on": "2026-06-30", "description": "购买服务 6 月", **change,
        }  # fmt: skip
        return await self.api.post("/api/v1/expenditures", json=body, headers=self.h(who))


@pytest.fixture
def funds(api: httpx.AsyncClient, tokens: Tokens) -> Funds:
    return Funds(api, tokens)


@pytest.fixture
async def world(api: httpx.AsyncClient, stack: Stack, tokens: Tokens, engine: AsyncEngine) -> World:
    w = await make_world(api, stack.gateway, tokens, engine)
    await w.population(5_000)
    return w


def money(value: Any) -> Decimal:
    return Decimal(str(value))
