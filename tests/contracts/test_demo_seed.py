"""The demo contracted county `jiuzhu up` seeds: valid by the API's own rules, readable through the API,
and seeded once."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import uscc
from services.common.pii import load_vault
from services.common.settings import Settings
from services.contract_api.seed import DEMO_USCC, seed_contracted_county
from tests.conftest import Tokens, business_day


async def test_the_demo_county_is_valid_and_seeded_once(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine, settings: Settings
) -> None:
    today = business_day()
    async with engine.begin() as conn:
        county = await seed_contracted_county(conn, load_vault(settings), today)
    async with engine.begin() as conn:
        again = await seed_contracted_county(conn, load_vault(settings), today)
    assert again == county and len(county.workers) == 3
    assert uscc.parse(DEMO_USCC).value == DEMO_USCC
    official = tokens.headers("county_official", "530102")
    for w in county.workers:
        quota = (await api.get(f"/api/v1/quotas/{w.village}", headers=official)).json()
        assert quota["dispatched"] >= 1 and quota["status"] != "above_maximum", quota
        person = (await api.get(f"/api/v1/persons/{w.person_id}", headers=official)).json()
        assert person["id_number"].startswith("530102") and person["phone"].startswith("139")  # decrypts
        check = {"person_id": w.person_id, "on_date": str(today), "education": "senior_high",
                 "health_confirmed": True, "law_abiding_confirmed": True, "has_other_job": False}  # fmt: skip
        reasons = (await api.post("/api/v1/assistant-eligibility", json=check, headers=official)).json()[
            "reasons"
        ]
        assert [r["code"] for r in reasons] == ["ALREADY_DISPATCHED"]  # eligible but for the dispatch itself
        worker = tokens.headers("worker", w.village, sub=str(w.person_id), org_id=str(county.contractor_id))
        assert (await api.get("/api/v1/persons", headers=worker)).json()["items"][0]["id"] == w.person_id
