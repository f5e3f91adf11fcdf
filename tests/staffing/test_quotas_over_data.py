"""Quotas over the real regions: figures by month, established and dispatched staff, the summary."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import Integer, String, column, insert, select, values
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.models import EstablishmentPost, Person
from services.staffing_api.quotas import sql
from services.staffing_api.quotas.rules import RuleParameters, quota
from tests.conftest import Tokens
from tests.staffing.factories import contract, dispatch

FIGURES = sorted(
    {
        0,
        1,
        799,
        800,
        801,
        1_499,
        1_500,
        1_501,
        1_600,
        1_601,
        2_400,
        2_401,
        3_000,
        3_001,
        4_999,
        5_000,
        5_001,
        9_999,
        10_000,
        10_001,
        12_000,
        29_999,
        30_000,
        30_001,
        40_000,
        40_001,
        45_000,
        99_999,
    }
)


@pytest.mark.parametrize(
    "params", [RuleParameters(), RuleParameters(rounding="floor"), RuleParameters(rounding="half_up")]
)
async def test_sql_rules_equal_the_reference_rules(engine: AsyncEngine, params: RuleParameters) -> None:
    cases = [(level, n) for level in ("county", "township", "village") for n in FIGURES]
    table = values(column("level", String), column("n", Integer), name="cases").data(cases)
    stmt = select(
        table.c.level,
        table.c.n,
        sql.required_min(table.c.level, table.c.n, params),
        sql.allowed_max(table.c.level, table.c.n, params),
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    for level, n, minimum, maximum in rows:
        expected = quota(level, n, params)
        assert (minimum, maximum) == (expected.required_min, expected.allowed_max), (level, n)


async def _person(engine: AsyncEngine, i: int, region: str = "530102") -> int:
    async with engine.begin() as conn:
        return int(
            (
                await conn.execute(
                    insert(Person)
                    .values(
                        name=f"p{i}",
                        id_number_hash=bytes([i]) * 32,
                        id_number_encrypted=b"x",
                        id_number_masked="x",
                        birth_date=date(1990, 1, 1),
                        education="junior_high",
                        region_code=region,
                    )
                    .returning(Person.id)
                )
            ).scalar_one()
        )


async def _post(
    engine: AsyncEngine, person: int, region: str, since: date, until: date | None = None
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(EstablishmentPost).values(person_id=person, region_code=region, since=since, until=until)
        )


async def test_unit_quota_counts_on_the_last_day_of_the_month(
    api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    h = tokens.headers("county_official", "530102")
    await api.put("/api/v1/regions/530102/stats/2026-03", json={"dibao_recipients": 30_001}, headers=h)
    march = (await api.get("/api/v1/quotas/530102", params={"as_of": "2026-03"}, headers=h)).json()
    assert (march["dibao_recipients"], march["required_min"], march["allowed_max"]) == (30_001, 4, None)
    assert (march["status"], march["shortfall"], march["stats_missing"]) == ("below_minimum", 4, False)
    february = (await api.get("/api/v1/quotas/530102", params={"as_of": "2026-02"}, headers=h)).json()
    assert february["dibao_recipients"] != 30_001  # the seed's January figure still applies
    before = (await api.get("/api/v1/quotas/530102", params={"as_of": "2025-12"}, headers=h)).json()
    assert (before["stats_missing"], before["dibao_recipients"], before["required_min"]) == (True, 0, 3)
    # Established staff: a post counts when since ≤ 31 March ≤ until.
    people = [await _person(engine, i) for i in range(1, 7)]
    await _post(engine, people[0], "530102", date(2026, 3, 31))  # starts on the day: counts
    await _post(engine, people[1], "530102", date(2026, 4, 1))  # the day after: does not
    await _post(engine, people[2], "530102", date(2025, 1, 1), until=date(2026, 3, 31))  # ends on it: counts
    await _post(engine, people[3], "530102", date(2025, 1, 1), until=date(2026, 3, 30))  # ended before: no
    cid = await contract(engine, "530102")
    await dispatch(engine, cid, people[4], "530102", level="county", start=date(2026, 3, 31))
    ended = await contract(engine, "530102", status="completed")
    await dispatch(engine, ended, people[5], "530102", level="county")
    now = (await api.get("/api/v1/quotas/530102", params={"as_of": "2026-03"}, headers=h)).json()
    assert (now["established"], now["dispatched"], now["total"], now["shortfall"]) == (2, 1, 3, 1)
    await dispatch(engine, cid, people[1], "530102", level="county", start=date(2026, 1, 1))
    full = (await api.get("/api/v1/quotas/530102", params={"as_of": "2026-03"}, headers=h)).json()
    assert (full["total"], full["shortfall"], full["status"]) == (4, 0, "within_quota")


async def test_village_assistants(api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine) -> None:
    h = tokens.headers("township_official", "530102001")
    village = "530102001001"
    await api.put(f"/api/v1/regions/{village}/stats/2026-03", json={"population": 5_000}, headers=h)
    cid = await contract(engine, "530102")
    for i in range(3):
        await dispatch(engine, cid, await _person(engine, 10 + i), village)
    q = (await api.get(f"/api/v1/quotas/{village}", params={"as_of": "2026-03"}, headers=h)).json()
    assert (q["population"], q["required_min"], q["allowed_max"], q["established"], q["dispatched"]) == (
        5_000,
        1,
        2,
        0,
        3,
    )
    assert q["status"] == "above_maximum" and q["shortfall"] == 0


async def test_quota_scope_and_levels(api: httpx.AsyncClient, tokens: Tokens) -> None:
    h = tokens.headers("county_official", "530102")
    assert (await api.get("/api/v1/quotas/530103", headers=h)).status_code == 404
    assert (await api.get("/api/v1/quotas/5301", headers=h)).status_code == 404
    prov = await api.get("/api/v1/quotas/5301", headers=tokens.headers())
    assert prov.status_code == 422 and prov.json()["code"] == "QUOTA_LEVEL_NOT_ALLOWED"
    assert (
        await api.get("/api/v1/quotas/530102", headers=tokens.headers("contractor", "530102", org_id="1"))
    ).status_code == 403
    assert (
        await api.get("/api/v1/quotas/530102", headers=tokens.headers("service", "53", scope="staffing:read"))
    ).status_code == 200
    assert (await api.get("/api/v1/quotas/530102", params={"as_of": "2026-13"}, headers=h)).status_code == 422


async def test_quota_list_filters_and_pages(api: httpx.AsyncClient, tokens: Tokens) -> None:
    h = tokens.headers("county_official", "530102")
    townships = (
        await api.get(
            "/api/v1/quotas", params={"level": "township", "as_of": "2026-01", "limit": 500}, headers=h
        )
    ).json()
    codes = [u["region_code"] for u in townships["items"]]
    assert codes and all(c.startswith("530102") and len(c) == 9 for c in codes) and codes == sorted(codes)
    seen: list[str] = []
    cursor = None
    while True:
        params = {
            "level": "township",
            "as_of": "2026-01",
            "limit": 3,
            **({"cursor": cursor} if cursor else {}),
        }
        page = (await api.get("/api/v1/quotas", params=params, headers=h)).json()
        seen += [u["region_code"] for u in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == codes
    below = (
        await api.get(
            "/api/v1/quotas", params={"status": "below_minimum", "as_of": "2026-01", "limit": 500}, headers=h
        )
    ).json()
    assert below["items"] and all(u["status"] == "below_minimum" for u in below["items"])
    assert (await api.get("/api/v1/quotas", params={"region": "5301"}, headers=h)).status_code == 404


async def test_summary(api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine) -> None:
    h = tokens.headers("county_official", "530102")
    units = (await api.get("/api/v1/quotas", params={"as_of": "2026-01", "limit": 500}, headers=h)).json()[
        "items"
    ]
    villages = [u for u in units if u["level"] == "village"]
    cid = await contract(engine, "530102")
    await dispatch(engine, cid, await _person(engine, 30), villages[0]["region_code"])
    await dispatch(engine, cid, await _person(engine, 31), villages[1]["region_code"])
    s = (await api.get("/api/v1/quota-summary/530102", params={"as_of": "2026-01"}, headers=h)).json()
    assert s["levels"]["county"]["units"] == 1
    assert s["levels"]["township"]["units"] == sum(1 for u in units if u["level"] == "township")
    assert s["levels"]["village"]["units"] == len(villages)
    for level in ("county", "township", "village"):
        mine = [u for u in units if u["level"] == level]
        assert s["levels"][level]["shortfall"] == sum(u["shortfall"] for u in mine) + (
            -2 if level == "village" else 0
        )
    cov = s["village_coverage"]
    assert (cov["villages"], cov["covered"]) == (len(villages), 2)
    assert cov["share"] == round(2 / len(villages), 4)
    child_codes = [c["region_code"] for c in s["children"]]
    assert child_codes == sorted({u["region_code"][:9] for u in units if len(u["region_code"]) >= 9})
    assert sum(c["levels"]["village"]["units"] for c in s["children"]) == len(villages)


async def test_province_summary(api: httpx.AsyncClient, tokens: Tokens) -> None:
    s = (
        await api.get("/api/v1/quota-summary/53", params={"as_of": "2026-01"}, headers=tokens.headers())
    ).json()
    assert {k: v["units"] for k, v in s["levels"].items()} == {
        "county": 129,
        "township": 1461,
        "village": 14888,
    }
    assert len(s["children"]) == 16 and s["children"][0]["region_code"] == "5301"
    assert s["village_coverage"] == {"villages": 14888, "covered": 0, "share": 0.0}
    assert (
        await api.get("/api/v1/quota-summary/53", headers=tokens.headers("prefecture_official", "5301"))
    ).status_code == 404
    pref = (
        await api.get(
            "/api/v1/quota-summary/5301",
            params={"as_of": "2026-01"},
            headers=tokens.headers("prefecture_official", "5301"),
        )
    ).json()
    assert all(c["region_code"].startswith("5301") and len(c["region_code"]) == 6 for c in pref["children"])
