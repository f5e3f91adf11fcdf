"""Every item of gateway.md's verification list, through the gateway and straight at a service."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.common.auth.keys import KeyStore
from services.common.settings import Settings
from tests.conftest import Tokens

URL = "/api/v1/regions/53"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _invalid(r: httpx.Response) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == 'Bearer realm="jiuzhu", error="invalid_token"'
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "INVALID_TOKEN"


async def test_valid_token_reads(api: httpx.AsyncClient, tokens: Tokens) -> None:
    r = await api.get(URL, headers=tokens.headers())
    assert r.status_code == 200
    assert r.json()["name"] == "云南省"


async def test_no_token_has_no_error_code(api: httpx.AsyncClient) -> None:
    r = await api.get(URL)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="jiuzhu"'
    assert r.json()["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("value", ["Bearer not.a.jwt", "Bearer abc", "Basic dXNlcjpwdw==", "Bearer "])
async def test_malformed(api: httpx.AsyncClient, value: str) -> None:
    _invalid(await api.get(URL, headers={"Authorization": value}))


async def test_alg_none(api: httpx.AsyncClient, tokens: Tokens) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(tokens.claims())}."
    _invalid(await api.get(URL, headers={"Authorization": f"Bearer {token}"}))


async def test_hs256_signed_with_the_public_key(api: httpx.AsyncClient, tokens: Tokens) -> None:
    kid, key = tokens.store.signing_key()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": kid})
    body = _b64(tokens.claims())
    import hashlib
    import hmac

    sig = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    token = f"{header}.{body}.{base64.urlsafe_b64encode(sig).decode().rstrip('=')}"
    _invalid(await api.get(URL, headers={"Authorization": f"Bearer {token}"}))


async def test_unknown_kid(api: httpx.AsyncClient, tokens: Tokens) -> None:
    _invalid(
        await api.get(
            URL, headers={"Authorization": f"Bearer {tokens.sign(tokens.claims(), {'kid': 'nope'})}"}
        )
    )


async def test_a_rotated_key_verifies_at_once_even_right_after_a_refresh(
    api: httpx.AsyncClient, tokens: Tokens, settings: Settings
) -> None:
    """Issue 9: a refresh just before `jiuzhu keys rotate` used to refuse the new key's tokens for
    up to `key_reload_interval` (10 s). Both the gateway and the services must accept them at once."""
    old = {"Authorization": f"Bearer {tokens.sign(tokens.claims())}"}
    forged = tokens.sign(tokens.claims(), {"kid": "A" * 16})  # unknown: forces the directory re-read
    _invalid(await api.get(URL, headers={"Authorization": f"Bearer {forged}"}))
    KeyStore(settings.keys_dir).rotate()
    fresh = {"Authorization": f"Bearer {tokens.sign(tokens.claims())}"}
    assert (await api.get(URL, headers=fresh)).status_code == 200
    assert (await api.get(URL, headers=old)).status_code == 200
    _invalid(await api.get(URL, headers={"Authorization": f"Bearer {forged}"}))
    traversal = tokens.sign(tokens.claims(), {"kid": "../../../../etc/x"})
    _invalid(await api.get(URL, headers={"Authorization": f"Bearer {traversal}"}))


async def test_bad_signature(api: httpx.AsyncClient, tokens: Tokens) -> None:
    kid, _ = tokens.store.signing_key()
    other = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(tokens.claims(), other, algorithm="ES256", headers={"kid": kid})
    _invalid(await api.get(URL, headers={"Authorization": f"Bearer {token}"}))
    good = tokens.sign(tokens.claims())
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    _invalid(await api.get(URL, headers={"Authorization": f"Bearer {tampered}"}))


async def test_expired_and_missing_exp(api: httpx.AsyncClient, tokens: Tokens) -> None:
    now = int(time.time())
    _invalid(
        await api.get(
            URL,
            headers={"Authorization": f"Bearer {tokens.sign(tokens.claims(iat=now - 700, exp=now - 31))}"},
        )
    )
    _invalid(await api.get(URL, headers={"Authorization": f"Bearer {tokens.sign(tokens.claims(exp=None))}"}))


async def test_expired_within_skew_is_accepted(api: httpx.AsyncClient, tokens: Tokens) -> None:
    now = int(time.time())
    token = tokens.sign(tokens.claims(iat=now - 600, exp=now - 20))
    assert (await api.get(URL, headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_nbf_and_iat_in_the_future(api: httpx.AsyncClient, tokens: Tokens) -> None:
    now = int(time.time())
    _invalid(
        await api.get(URL, headers={"Authorization": f"Bearer {tokens.sign(tokens.claims(nbf=now + 120))}"})
    )
    _invalid(
        await api.get(
            URL,
            headers={"Authorization": f"Bearer {tokens.sign(tokens.claims(iat=now + 120, exp=now + 700))}"},
        )
    )
    within = tokens.sign(tokens.claims(nbf=now + 10, iat=now + 10, exp=now + 600))
    assert (await api.get(URL, headers={"Authorization": f"Bearer {within}"})).status_code == 200


async def test_lifetime_too_long(api: httpx.AsyncClient, tokens: Tokens) -> None:
    now = int(time.time())
    _invalid(
        await api.get(
            URL, headers={"Authorization": f"Bearer {tokens.sign(tokens.claims(iat=now, exp=now + 3601))}"}
        )
    )
    ok = tokens.sign(tokens.claims(iat=now, exp=now + 3600))
    assert (await api.get(URL, headers={"Authorization": f"Bearer {ok}"})).status_code == 200


@pytest.mark.parametrize(("claim", "value"), [("iss", "someone-else"), ("aud", "other-api")])
async def test_wrong_issuer_or_audience(
    api: httpx.AsyncClient, tokens: Tokens, claim: str, value: str
) -> None:
    _invalid(
        await api.get(
            URL, headers={"Authorization": f"Bearer {tokens.sign(tokens.claims(**{claim: value}))}"}
        )
    )


@pytest.mark.parametrize("claim", ["sub", "role", "region", "jti", "iat", "iss", "aud"])
async def test_missing_claims(api: httpx.AsyncClient, tokens: Tokens, claim: str) -> None:
    _invalid(
        await api.get(URL, headers={"Authorization": f"Bearer {tokens.sign(tokens.claims(**{claim: None}))}"})
    )


async def test_unknown_role(api: httpx.AsyncClient, tokens: Tokens) -> None:
    _invalid(
        await api.get(
            URL, headers={"Authorization": f"Bearer {tokens.sign(tokens.claims(role='superuser'))}"}
        )
    )


@pytest.mark.parametrize("region", ["5", "530", "54", "ab", "5301020010011", "530100001"])
async def test_malformed_region(api: httpx.AsyncClient, tokens: Tokens, region: str) -> None:
    _invalid(
        await api.get(URL, headers={"Authorization": f"Bearer {tokens.sign(tokens.claims(region=region))}"})
    )


async def test_padded_region_claim_is_normalized(api: httpx.AsyncClient, tokens: Tokens) -> None:
    token = tokens.sign(tokens.claims(role="county_official", region="530102000000"))
    r = await api.get("/api/v1/regions/530102", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200


async def test_token_in_query_string_is_ignored(api: httpx.AsyncClient, tokens: Tokens) -> None:
    r = await api.get(URL, params={"access_token": tokens("province_admin", "53")})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="jiuzhu"'


async def test_two_tokens(api: httpx.AsyncClient, tokens: Tokens) -> None:
    t = tokens("province_admin", "53")
    both = await api.get(URL, params={"access_token": t}, headers={"Authorization": f"Bearer {t}"})
    assert both.status_code == 401
    assert both.headers["www-authenticate"] == 'Bearer realm="jiuzhu", error="invalid_request"'
    two_headers = await api.get(
        URL, headers=[("Authorization", f"Bearer {t}"), ("Authorization", f"Bearer {t}")]
    )
    assert two_headers.status_code == 401
    assert 'error="invalid_request"' in two_headers.headers["www-authenticate"]


async def test_revoked_jti(api: httpx.AsyncClient, tokens: Tokens, engine: object) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import AsyncEngine

    from services.common.models import RevokedToken

    assert isinstance(engine, AsyncEngine)
    claims = tokens.claims()
    async with engine.begin() as conn:
        await conn.execute(
            insert(RevokedToken).values(
                jti=claims["jti"], expires_at=datetime.now(UTC) + timedelta(minutes=10)
            )
        )
    _invalid(await api.get(URL, headers={"Authorization": f"Bearer {tokens.sign(claims)}"}))


async def test_errors_in_english_on_request(api: httpx.AsyncClient) -> None:
    zh = await api.get(URL)
    en = await api.get(URL, headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert zh.json()["detail"] == "缺少访问令牌"
    assert en.json()["detail"] == "An access token is required"
