"""contract_api through the gateway and straight to the service, and a contracted county to test
dispatch and payroll in."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Stack, Tokens
from tests.contracts.test_contracts import COUNTY, REACH, TERMS, _act, _draft


@pytest.fixture
def contract_api(stack: Stack, target: str) -> httpx.AsyncClient:
    return stack.gateway if target == "gateway" else stack.direct["contract"]


VILLAGE = "530102001001"
START = "2026-01-01"
CONTRACT_TERMS = {
    **TERMS,
    "start_date": "2026-01-01",
    "end_date": "2028-12-31",
    "posts": [
        {"posting_level": "village", "region_code": VILLAGE, "count": 2, "monthly_wage": "2850.00"},
        {"posting_level": "township", "region_code": "530102001", "count": 1, "monthly_wage": "3200.00"},
    ],
}
DECLARED = {"health_confirmed": True, "law_abiding_confirmed": True, "has_other_job": False}
_CHECK = "10X98765432"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(born: date, seq: int, region: str = "530102") -> str:
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


class World:
    """An active contract of a contractor in 五华区 with its posts, and helpers around it."""

    def __init__(
        self,
        api: httpx.AsyncClient,
        staffing: httpx.AsyncClient,
        tokens: Tokens,
        contract: int,
        contractor: int,
    ) -> None:
        self.api, self.staffing, self.tokens = api, staffing, tokens
        self.contract, self.contractor = contract, contractor
        self.h = tokens.headers("contractor", "530102", org_id=str(contractor))
        self._seq = 0

    async def person(self, born: date = date(1990, 5, 1), education: str = "junior_high") -> int:
        self._seq += 1
        body = {
            "name": f"协理员{self._seq}",
            "id_number": id_number(born, self._seq),
            "region_code": VILLAGE,
            "education": education,
            "phone": "13812345678",
        }
        r = await self.staffing.post("/api/v1/persons", json=body, headers=self.h)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def body(self, person: int, **change: Any) -> dict[str, Any]:
        return {
            "contract_id": self.contract,
            "person_id": person,
            "posting_level": "village",
            "region_code": VILLAGE,
            "monthly_wage": "2850.00",
            "start_date": START,
            "labor_contract_signed_on": "2025-12-20",
            "declarations": DECLARED,
            **change,
        }

    async def dispatch(self, person: int, **change: Any) -> httpx.Response:
        return await self.api.post("/api/v1/dispatches", json=self.body(person, **change), headers=self.h)

    async def population(self, n: int, month: str = "2026-01") -> None:
        r = await self.staffing.put(
            f"/api/v1/regions/{VILLAGE}/stats/{month}", json={"population": n}, headers=self.tokens.headers()
        )
        assert r.status_code in (200, 201), r.text


async def make_world(
    api: httpx.AsyncClient,
    staffing: httpx.AsyncClient,
    tokens: Tokens,
    engine: AsyncEngine,
    state: str = "active",
) -> World:
    contract, contractor = await _draft(api, tokens, engine)
    r = await api.patch(f"/api/v1/contracts/{contract}", json=CONTRACT_TERMS, headers=tokens.headers(*COUNTY))
    assert r.status_code == 200, r.text
    for action in REACH[state]:
        assert (await _act(api, tokens, contract, contractor, action)).status_code == 200
    return World(api, staffing, tokens, contract, contractor)


@pytest.fixture
def staffing_api(stack: Stack, target: str) -> httpx.AsyncClient:
    return stack.client(target)


@pytest.fixture
async def world(
    contract_api: httpx.AsyncClient, staffing_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> World:
    w = await make_world(contract_api, staffing_api, tokens, engine)
    await w.population(5_000)  # a village of 5,000: at most 2 assistants
    return w
