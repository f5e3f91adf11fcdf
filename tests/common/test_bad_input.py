"""Bad input never costs a 500 or a row (issue 13 item 3): each kind of bad value on a write of each
service answers 4xx problem+json, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common import problems
from tests.conftest import Stack, Tokens

REGION = {"code": "530102990", "name": "坏输入街道"}
ALLOCATION = {
    "year": 2026, "total_amount": "1000.00", "units": ["5301"],
    "weights": {"needy_population": "1", "workload": "0", "fund_use": "0", "performance": "0"},
    "factor_values": {"5301": {"needy_population": 1}},
}  # fmt: skip
SURVEY = {"region_code": "530102001001", "score": 4, "channel": "phone", "comment": "好"}
# (path, who, a good body, the table that must stay as it was)
WRITES = [
    ("/api/v1/regions", ("province_admin", "53"), REGION, "regions"),
    ("/api/v1/allocations", ("province_admin", "53"), ALLOCATION, "allocations"),
    ("/api/v1/satisfaction-surveys", ("county_official", "530102"), SURVEY, "satisfaction_surveys"),
]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


BAD: list[tuple[str, Any, int, str]] = [
    ("malformed JSON", b'{"code": "5301', 400, "MALFORMED_JSON"),
    ("not an object", b"[1, 2, 3]", 422, "VALIDATION_FAILED"),
    ("deeply nested", nested(100_000).encode(), 400, "MALFORMED_JSON"),
]


async def _count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())  # noqa: S608


def _changed(body: dict[str, Any], kind: str) -> dict[str, Any]:
    """The good body with one bad value of ``kind`` in its first text or money field."""
    key = next(k for k, v in body.items() if isinstance(v, str))
    if kind == "unknown field":
        return {**body, "surprise": 1}
    if kind == "wrong type":
        return {**body, key: {"nested": True}}
    if kind == "NUL character":
        return {**body, key: "abc\x00def"}
    if kind == "oversized string":
        return {**body, key: "长" * 100_000}
    raise AssertionError(kind)


@pytest.mark.parametrize(("path", "who", "good", "table"), WRITES)
@pytest.mark.parametrize("kind", ["unknown field", "wrong type", "NUL character", "oversized string"])
async def test_bad_values_are_4xx_and_store_nothing(
    stack: Stack, tokens: Tokens, engine: AsyncEngine, path: str, who: tuple[str, str], good: dict[str, Any],
    table: str, kind: str,
) -> None:  # fmt: skip
    before = await _count(engine, table)
    r = await stack.gateway.post(path, json=_changed(good, kind), headers=tokens.headers(*who))
    assert 400 <= r.status_code < 500, (kind, r.status_code, r.text[:300])
    assert r.headers["content-type"] == "application/problem+json" and r.json()["code"]
    assert "Traceback" not in r.text and "INSERT" not in r.text and "\x00" not in r.text
    assert await _count(engine, table) == before


@pytest.mark.parametrize(("path", "who", "good", "table"), WRITES)
@pytest.mark.parametrize(("kind", "raw", "status", "code"), BAD)
async def test_unreadable_bodies(
    stack: Stack, tokens: Tokens, engine: AsyncEngine, path: str, who: tuple[str, str], good: dict[str, Any],
    table: str, kind: str, raw: bytes, status: int, code: str,
) -> None:  # fmt: skip
    before = await _count(engine, table)
    h = {**tokens.headers(*who), "Content-Type": "application/json"}
    r = await stack.gateway.post(path, content=raw, headers=h)
    assert (r.status_code, r.json()["code"]) == (status, code), (kind, r.text[:300])
    assert await _count(engine, table) == before


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("1000.001", "VALIDATION_FAILED"),  # a third decimal
        ("100000000000000.00", "VALIDATION_FAILED"),  # beyond NUMERIC(16,2)
        (1000.5, "VALIDATION_FAILED"),  # a JSON float
        ("-1.00", "VALIDATION_FAILED"),
        ("NaN", "VALIDATION_FAILED"),
        ("1e3", "VALIDATION_FAILED"),
    ],
)
async def test_money_that_is_not_money(
    stack: Stack, tokens: Tokens, engine: AsyncEngine, amount: Any, code: str
) -> None:
    before = await _count(engine, "allocations")
    r = await stack.gateway.post(
        "/api/v1/allocations",
        json={**ALLOCATION, "total_amount": amount},
        headers=tokens.headers("province_admin", "53"),
    )
    assert (r.status_code, r.json()["code"]) == (422, code), r.text[:300]
    assert await _count(engine, "allocations") == before


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "2026-2-3", "yesterday", "2026-02-28T08:00:00"])
async def test_dates_that_are_not_dates(stack: Stack, tokens: Tokens, engine: AsyncEngine, day: str) -> None:
    before = await _count(engine, "satisfaction_surveys")
    r = await stack.gateway.post(
        "/api/v1/satisfaction-surveys", json={**SURVEY, "surveyed_on": day},
        headers=tokens.headers("county_official", "530102"),
    )  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_FAILED"), r.text[:300]
    assert await _count(engine, "satisfaction_surveys") == before


async def test_an_import_with_bad_rows_imports_nothing(
    stack: Stack, tokens: Tokens, engine: AsyncEngine
) -> None:
    before = await _count(engine, "region_stats")
    rows = ("region_code,month,dibao_recipients,tekun_recipients,population\n"
            "530102001001,2026-05,12,,3400\n530102001001,2026-02-30,1,,\n530102001,2026-05,-3,,\n"
            "999999,2026-05,1,,\n530102001002,2026-05,abc\x00,,\n")  # fmt: skip
    r = await stack.gateway.post(
        "/api/v1/region-stats/import", files={"file": ("s.csv", rows.encode())},
        headers=tokens.headers("county_official", "530102"),
    )  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (422, "IMPORT_ROWS_INVALID"), r.text[:300]
    assert sorted({e["row"] for e in r.json()["errors"]}) == [3, 4, 5, 6]
    assert await _count(engine, "region_stats") == before
    r = await stack.gateway.post(
        "/api/v1/region-stats/import", files={"file": ("s.xlsx", b"PK\x03\x04 not really a workbook")},
        headers=tokens.headers("county_official", "530102"),
    )  # fmt: skip
    assert 400 <= r.status_code < 500 and r.json()["code"], r.text[:300]
    assert json.loads(r.text)["status"] == r.status_code


def test_a_unique_violation_no_route_foresaw_is_a_409_that_names_nothing() -> None:
    """The fallback for a race on a constraint whose store has no code of its own."""

    class Orig(Exception):
        sqlstate = "23505"

    err = problems.data_error(IntegrityError("INSERT …", {}, Orig("duplicate key uq_secret_name")))
    assert err is not None and (err.status, err.code) == (409, "ALREADY_EXISTS")
    assert "uq_secret_name" not in f"{err.message_zh} {err.message_en}"
