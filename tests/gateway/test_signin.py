"""POST /auth/token and /auth/revoke (gateway.md, *Tokens*)."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.accounts import add_client, add_user, ensure_demo_users
from services.common.models import LoginAttempt, User
from tests.conftest import FakeClock, Stack

PASSWORD = "correct horse battery"


@pytest.fixture
async def user(engine: AsyncEngine) -> str:
    async with engine.begin() as conn:
        await add_user(conn, "li.county", PASSWORD, role="county_official", region="530102")
    return "li.county"


async def _sign_in(gw: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await gw.post(
        "/auth/token", data={"grant_type": "password", "username": username, "password": password}
    )


async def test_password_grant(stack: Stack, user: str, engine: AsyncEngine) -> None:
    r = await _sign_in(stack.gateway, user, PASSWORD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert r.headers["cache-control"] == "no-store"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["role"], claims["region"]) == (
        "user:li.county",
        "county_official",
        "530102",
    )
    assert claims["exp"] - claims["iat"] == 900
    auth = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await stack.gateway.get("/api/v1/regions/530102", headers=auth)).status_code == 200
    assert (await stack.gateway.get("/api/v1/regions/530103", headers=auth)).status_code == 404
    async with engine.connect() as conn:
        stored = (await conn.execute(select(User.password_hash).where(User.username == user))).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        (
            {"grant_type": "password", "username": "li.county", "password": "wrong password!"},
            401,
            "invalid_grant",
        ),
        ({"grant_type": "password", "username": "nobody", "password": PASSWORD}, 401, "invalid_grant"),
        ({"grant_type": "password", "username": "li.county"}, 400, "invalid_request"),
        ({"grant_type": "authorization_code", "code": "x"}, 400, "unsupported_grant_type"),
        ({}, 400, "unsupported_grant_type"),
        (
            {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"},
            401,
            "invalid_client",
        ),
    ],
)
async def test_sign_in_errors(stack: Stack, user: str, form: dict[str, str], status: int, error: str) -> None:
    r = await stack.gateway.post("/auth/token", data=form)
    assert r.status_code == status
    assert r.json()["error"] == error and "error_description" in r.json()
    assert r.headers["content-type"] == "application/json"  # OAuth's body, not problem+json


async def test_lockout_after_five_failures_and_after_the_window(
    stack: Stack, user: str, clock: FakeClock
) -> None:
    gw = stack.gateway
    for attempt in range(1, 6):
        r = await _sign_in(gw, user, "wrong password!")
        assert r.status_code == 401, attempt  # the 5th failure is still an ordinary 401
    locked = await _sign_in(gw, user, PASSWORD)  # 6th attempt: refused even with the right password
    assert locked.status_code == 429
    assert locked.json()["error"] == "too_many_attempts"
    assert locked.headers["retry-after"] == "900"
    clock.advance(minutes=14)
    still = await _sign_in(gw, user, PASSWORD)
    assert still.status_code == 429 and still.headers["retry-after"] == "60"
    clock.advance(seconds=61)
    assert (await _sign_in(gw, user, PASSWORD)).status_code == 200


async def test_parallel_guesses_cannot_slip_past_the_count(stack: Stack, user: str) -> None:
    """Argon2 runs outside the name's lock now; the attempt is counted before it runs, so twelve
    guesses at once still get exactly five checks and seven refusals."""
    answers = await asyncio.gather(*(_sign_in(stack.gateway, user, f"guess {i}") for i in range(12)))
    assert sorted(a.status_code for a in answers) == [401] * 5 + [429] * 7
    # Even the right password is refused now.
    assert (await _sign_in(stack.gateway, user, PASSWORD)).status_code == 429


async def test_four_failures_then_success_resets(stack: Stack, user: str, clock: FakeClock) -> None:
    for _ in range(4):
        assert (await _sign_in(stack.gateway, user, "wrong password!")).status_code == 401
    assert (await _sign_in(stack.gateway, user, PASSWORD)).status_code == 200
    for _ in range(4):
        assert (await _sign_in(stack.gateway, user, "wrong password!")).status_code == 401
    assert (await _sign_in(stack.gateway, user, PASSWORD)).status_code == 200


async def test_failures_outside_the_window_do_not_count(
    stack: Stack, user: str, clock: FakeClock, engine: AsyncEngine
) -> None:
    for _ in range(4):
        await _sign_in(stack.gateway, user, "wrong password!")
    clock.advance(minutes=15, seconds=1)
    await _sign_in(stack.gateway, user, "wrong password!")
    async with engine.connect() as conn:
        kept = (await conn.execute(select(func.count()).select_from(LoginAttempt))).scalar_one()
    assert kept == 1  # the four old failures were pruned
    assert (await _sign_in(stack.gateway, user, PASSWORD)).status_code == 200


async def test_client_credentials(stack: Stack, engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await add_client(
            conn,
            "civil-affairs-ministry",
            "s3cret-s3cret-s3cret",
            region="5301",
            scope="staffing:read events:read",
        )
    form = {
        "grant_type": "client_credentials",
        "client_id": "civil-affairs-ministry",
        "client_secret": "s3cret-s3cret-s3cret",
    }
    r = await stack.gateway.post("/auth/token", data=form)
    assert r.status_code == 200
    assert r.json()["expires_in"] == 3600 and r.json()["scope"] == "staffing:read events:read"
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert (claims["role"], claims["region"], claims["scope"]) == (
        "service",
        "5301",
        "staffing:read events:read",
    )
    basic = base64.b64encode(b"civil-affairs-ministry:s3cret-s3cret-s3cret").decode()
    r2 = await stack.gateway.post(
        "/auth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert r2.status_code == 200
    token = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await stack.gateway.get("/api/v1/regions/5301", headers=token)).status_code == 200
    assert (await stack.gateway.get("/api/v1/audit-events", headers=token)).status_code == 403
    wrong = await stack.gateway.post("/auth/token", data={**form, "client_secret": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


async def test_per_address_rate_limit(settings: object, db_url: str) -> None:
    from services.common.settings import Settings
    from tests.gateway.test_proxy import gateway_with

    assert isinstance(settings, Settings)
    tight = settings.model_copy(update={"signin_rate": 0.5, "signin_burst": 2})
    async with gateway_with(tight, db_url, {}) as gw:
        answers = [await gw.post("/auth/token", data={"grant_type": "password"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 429]
    assert answers[2].json()["error"] == "too_many_requests"
    assert answers[2].headers["retry-after"] == "2"


async def test_demo_users(engine: AsyncEngine, tmp_path: Path) -> None:
    async with engine.begin() as conn:
        first = await ensure_demo_users(conn, tmp_path)
    async with engine.begin() as conn:
        second = await ensure_demo_users(conn, tmp_path)
    assert first == second and len(first) == 7
    assert {u.role for u in first} == {
        "province_admin",
        "prefecture_official",
        "county_official",
        "county_government",
        "township_official",
        "finance_official",
        "auditor",
    }
    assert (tmp_path / "demo-credentials.txt").stat().st_mode & 0o777 == 0o600


async def test_revoke_own_token_everywhere(stack: Stack, user: str) -> None:
    token = (await _sign_in(stack.gateway, user, PASSWORD)).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert (await stack.gateway.get("/api/v1/regions/530102", headers=auth)).status_code == 200
    r = await stack.gateway.post("/auth/revoke", headers=auth)
    assert r.status_code == 200
    through = await stack.gateway.get("/api/v1/regions/530102", headers=auth)
    assert through.status_code == 401 and 'error="invalid_token"' in through.headers["www-authenticate"]
    direct = await stack.direct["staffing"].get("/api/v1/regions/530102", headers=auth)
    assert direct.status_code == 401
    # Other tokens of the same user are untouched.
    other = (await _sign_in(stack.gateway, user, PASSWORD)).json()["access_token"]
    assert (
        await stack.gateway.get("/api/v1/regions/530102", headers={"Authorization": f"Bearer {other}"})
    ).status_code == 200


async def test_revoke_another_token_of_the_owner_only(stack: Stack, user: str, engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await add_user(conn, "wang.county", PASSWORD, role="county_official", region="530103")
    mine_a = (await _sign_in(stack.gateway, user, PASSWORD)).json()["access_token"]
    mine_b = (await _sign_in(stack.gateway, user, PASSWORD)).json()["access_token"]
    theirs = (await _sign_in(stack.gateway, "wang.county", PASSWORD)).json()["access_token"]
    refused = await stack.gateway.post(
        "/auth/revoke", data={"token": theirs}, headers={"Authorization": f"Bearer {mine_a}"}
    )
    assert refused.status_code == 403
    assert (
        await stack.gateway.get("/api/v1/regions/530103", headers={"Authorization": f"Bearer {theirs}"})
    ).status_code == 200
    ok = await stack.gateway.post(
        "/auth/revoke", data={"token": mine_b}, headers={"Authorization": f"Bearer {mine_a}"}
    )
    assert ok.status_code == 200
    assert (
        await stack.gateway.get("/api/v1/regions/530102", headers={"Authorization": f"Bearer {mine_b}"})
    ).status_code == 401
    assert (
        await stack.gateway.get("/api/v1/regions/530102", headers={"Authorization": f"Bearer {mine_a}"})
    ).status_code == 200
    assert (await stack.gateway.post("/auth/revoke")).status_code == 401
