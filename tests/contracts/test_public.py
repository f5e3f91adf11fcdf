"""Public disclosure without a token: the contracts list, the OCDS 1.1 release package validated offline
against the official schema (tests/fixtures/ocds, tag 1__1__5), caching, the per-address limit at the
gateway, and a scan of every public answer for a worker's name, ID number or phone number."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.limits import TokenBuckets
from tests.conftest import Stack, Tokens
from tests.contracts.conftest import World, make_world
from tests.contracts.test_contracts import COUNTY, _act
from tests.contracts.test_procurement import _bid, _close, _contractor, _open, _score

OCDS = Path(__file__).parent.parent / "fixtures" / "ocds"


def _validator() -> Draft4Validator:
    package = json.loads((OCDS / "release-package-schema.json").read_text())
    release = json.loads((OCDS / "release-schema.json").read_text())
    registry: Registry[Any] = Registry().with_resources(
        (s["id"], Resource.from_contents(s, default_specification=DRAFT4)) for s in (package, release)
    )
    return Draft4Validator(package, registry=registry, format_checker=FormatChecker())


def ocds_errors(body: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(body)]


async def _awarded(api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine) -> int:
    """The acceptance bid example, awarded: a draft contract with its procurement and winning bid."""
    p = await _open(api, tokens)
    a_org, b_org = await _contractor(api, tokens, 2), await _contractor(api, tokens, 1)
    a = (await _bid(api, tokens, p, a_org, "900000.00")).json()["id"]
    b = (await _bid(api, tokens, p, b_org, "1000000.00")).json()["id"]
    await _close(engine, p)
    await _score(api, tokens, p, a, "专家甲", "80", "90", "70")
    await _score(api, tokens, p, b, "专家甲", "90", "90", "90")
    await api.post(f"/api/v1/procurements/{p}/evaluate", headers=tokens.headers(*COUNTY))
    won = await api.post(f"/api/v1/procurements/{p}/award", json={}, headers=tokens.headers(*COUNTY))
    assert won.status_code == 201, won.text
    return int(won.json()["contract_id"])


async def test_contracts_and_their_release_package(
    contract_api: httpx.AsyncClient, staffing_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    awarded = await _awarded(contract_api, tokens, engine)
    w = await make_world(contract_api, staffing_api, tokens, engine)
    listed = await contract_api.get("/api/v1/public/contracts", params={"region": "530102"})
    assert listed.status_code == 200, listed.text
    by_id = {c["id"]: c for c in listed.json()["items"]}
    assert by_id[awarded] | {"uscc": None, "contractor_name": None} == {
        "id": awarded, "purchaser_region": "530102", "purchaser": "五华区民政局", "contractor_name": None,
        "uscc": None, "method": "competitive_consultation", "winning_score": "90.00", "amount": "1000000.00",
        "start_date": None, "end_date": None, "signed_on": None, "status": "draft", "posts_count": 0,
    }  # fmt: skip
    active = by_id[w.contract]
    assert (active["status"], active["posts_count"], active["method"]) == ("active", 3, None)
    assert active["signed_on"] is not None
    year = int(active["signed_on"][:4])
    r = await contract_api.get("/api/v1/public/ocds/releases", params={"region": "530102", "year": year})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "public, max-age=60"
    package = r.json()
    assert ocds_errors(package) == []
    releases = {rel["ocid"]: rel for rel in package["releases"]}
    won = releases[f"ocds-jzyn53-{awarded}"]
    assert (won["tag"], won["tender"]["numberOfTenderers"], won["tender"]["awardCriteria"]) == (
        ["award"], 2, "bestProposal",
    )  # fmt: skip
    assert won["awards"][0]["value"] == {"amount": 1000000, "currency": "CNY"}
    exact = json.loads(r.content, parse_float=Decimal)
    assert exact["releases"][0]["awards"][0]["value"]["amount"] == Decimal("1000000.00")
    signed = releases[f"ocds-jzyn53-{w.contract}"]
    assert (signed["tag"], signed["contracts"][0]["status"]) == (["contract"], "active")
    terminated = await _act(contract_api, tokens, w.contract, w.contractor, "terminate")
    assert terminated.status_code == 200
    after = (await contract_api.get("/api/v1/public/ocds/releases", params={"region": "530102"})).json()
    assert ocds_errors(after) == []
    ended = next(rel for rel in after["releases"] if rel["ocid"] == f"ocds-jzyn53-{w.contract}")
    assert (ended["tag"], ended["contracts"][0]["status"]) == (["contractTermination"], "terminated")
    assert ended["id"] != signed["id"]  # a change is a new release of the same process


async def test_no_release_and_filters(
    contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    none = await contract_api.get("/api/v1/public/ocds/releases", params={"year": 2001})
    assert none.status_code == 404 and none.json()["code"] == "NO_RELEASES"
    assert (await contract_api.get("/api/v1/public/contracts", params={"year": 2001})).json()["items"] == []
    bad = await contract_api.get("/api/v1/public/contracts", params={"region": "12"})
    assert bad.status_code == 422
    await _awarded(contract_api, tokens, engine)
    elsewhere = await contract_api.get("/api/v1/public/ocds/releases", params={"region": "530103"})
    assert elsewhere.json()["code"] == "NO_RELEASES"


@pytest.mark.parametrize(
    "path", ["/api/v1/public/contracts", "/api/v1/public/debarments", "/api/v1/public/ocds/releases"]
)
async def test_cached_by_etag(
    contract_api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine, path: str
) -> None:
    await _awarded(contract_api, tokens, engine)
    first = await contract_api.get(path)
    assert first.status_code == 200 and first.headers["cache-control"] == "public, max-age=60"
    again = await contract_api.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert (await contract_api.get(path, headers={"If-None-Match": '"other"'})).status_code == 200


async def test_public_routes_are_limited_per_address(stack: Stack) -> None:
    now = [0.0]
    stack.app.gateway.per_address = TokenBuckets(rate=1, burst=2, clock=lambda: now[0])
    codes = [(await stack.gateway.get("/api/v1/public/debarments")).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = await stack.gateway.get("/api/v1/public/contracts")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    now[0] += 1.0
    assert (await stack.gateway.get("/api/v1/public/contracts")).status_code == 200


async def test_no_person_in_any_public_answer(world: World, tokens: Tokens) -> None:
    """Dispatch named persons, end a contract seriously (a debarment), then scan every public answer."""
    persons = []
    for _ in range(2):
        pid = await world.person()
        assert (await world.dispatch(pid)).status_code == 201
        r = await world.staffing.get(f"/api/v1/persons/{pid}", headers=tokens.headers(*COUNTY))
        persons.append(r.json())
    r = await world.api.post(
        f"/api/v1/contracts/{world.contract}/terminate",
        json={"reason": "承接主体严重违约", "serious": True},
        headers=tokens.headers(*COUNTY),
    )
    assert r.status_code == 200
    secrets = [s for p in persons for s in (p["name"], p["id_number"], p["phone"])]
    secrets += ["13812345678", "138****5678"]
    answers = [
        await world.api.get(path, params=params)
        for path, params in (
            ("/api/v1/public/contracts", {}),
            ("/api/v1/public/contracts", {"region": "530102"}),
            ("/api/v1/public/debarments", {}),
            ("/api/v1/public/ocds/releases", {}),
            ("/api/v1/public/ocds/releases", {"region": "530102"}),
        )
    ]
    assert all(a.status_code == 200 for a in answers)
    assert any(b'"debarment' in a.content or b"until" in a.content for a in answers)
    for a in answers:
        text = a.content.decode()
        assert not [s for s in secrets if s in text], a.url


def test_the_schema_check_can_fail() -> None:
    """The validator really reads the official schema: a bad tag, a float-free but string amount and a
    missing uri are each reported."""
    award = {"id": "a", "value": {"amount": "12.00", "currency": "CNY"}}
    release = {
        "ocid": "ocds-jzyn53-1", "id": "1", "date": "2026-01-01T00:00:00+08:00", "tag": ["bogus"],
        "initiationType": "tender", "awards": [award],
    }  # fmt: skip
    package = {"version": "1.1", "publishedDate": "2026-01-01T00:00:00Z", "publisher": {"name": "x"}}
    errors = ocds_errors({**package, "releases": [release]})
    assert (
        any("uri" in e for e in errors)
        and any("bogus" in e for e in errors)
        and any("12.00" in e for e in errors)
    )
