"""Trusted external issuers: a second, independent key pair served by a real local JWKS endpoint."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from services.common.auth.external import JwksSource, check_jwks_location
from services.common.settings import ExternalIssuer, Settings
from tests.conftest import Stack, Tokens

ISS = "https://idp.yn.gov.cn"
AUD = "jiuzhu"


class Idp:
    """The province's identity platform, stood in for by a key pair and a JWKS HTTP endpoint."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.fetches = 0
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key()))
        ec_jwk = json.loads(ECAlgorithm.to_jwk(self.ec.public_key()))
        self.jwks = {
            "keys": [
                {**rsa_jwk, "kid": "idp-rsa", "alg": "RS256"},
                {**ec_jwk, "kid": "idp-ec", "alg": "ES256"},
            ]
        }

    def token(self, kid: str = "idp-rsa", **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": ISS,
            "aud": AUD,
            "sub": "idp:zhang",
            "iat": now,
            "exp": now + 600,
            "jti": f"x{time.time_ns()}",
            "role": "county_official",
            "region": "530102",
            **overrides,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        key: Any = self.ec if kid == "idp-ec" else self.rsa
        alg = "ES256" if kid == "idp-ec" else "RS256"
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def idp() -> Iterator[tuple[Idp, str]]:
    provider = Idp()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            provider.fetches += 1
            body = json.dumps(provider.jwks).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield provider, f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()


@pytest.fixture
def settings(settings: Settings, idp: tuple[Idp, str]) -> Settings:
    return settings.model_copy(
        update={
            "external_issuers": {ISS: ExternalIssuer(jwks=idp[1], audience=AUD)},
            "external_jwks_refresh": 60.0,
        }
    )


@pytest.fixture
def both(stack: Stack) -> list[httpx.AsyncClient]:
    return [stack.gateway, stack.direct["staffing"]]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_external_tokens_accepted(both: list[httpx.AsyncClient], idp: tuple[Idp, str]) -> None:
    provider, _ = idp
    for client in both:
        for kid in ("idp-rsa", "idp-ec"):
            r = await client.get("/api/v1/regions/530102", headers=_auth(provider.token(kid)))
            assert r.status_code == 200, (kid, r.text)
        # Role and region scope hold for them as for our own tokens.
        assert (
            await client.get("/api/v1/regions/530103", headers=_auth(provider.token()))
        ).status_code == 404


async def test_forged_and_incomplete_external_tokens(
    both: list[httpx.AsyncClient], idp: tuple[Idp, str], tokens: Tokens
) -> None:
    provider, _ = idp
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    base = {
        "iss": ISS,
        "aud": AUD,
        "sub": "x",
        "iat": now,
        "exp": now + 600,
        "jti": "f1",
        "role": "province_admin",
        "region": "53",
    }
    forged = [
        jwt.encode(base, stranger, algorithm="RS256", headers={"kid": "idp-rsa"}),  # wrong key, right kid
        jwt.encode(base, stranger, algorithm="RS256", headers={"kid": "unknown-kid"}),
        tokens.sign({**base, "jti": "f2"}),  # our key, their issuer
        provider.token(iss="jiuzhu", aud="jiuzhu-api"),  # their key, our issuer
        provider.token(aud="someone-else"),
        provider.token(role=None),
        provider.token(region=None),
        provider.token(role="superuser"),
        jwt.encode(base, provider.ec, algorithm="ES256", headers={"kid": "idp-rsa"}),  # alg of another key
    ]
    for client in both:
        for i, token in enumerate(forged):
            r = await client.get("/api/v1/regions/53", headers=_auth(token))
            assert r.status_code == 401, (i, r.text)


async def test_jwks_refresh_at_most_once_a_minute(
    both: list[httpx.AsyncClient], idp: tuple[Idp, str]
) -> None:
    provider, _ = idp
    gateway = both[0]
    assert (await gateway.get("/api/v1/regions/530102", headers=_auth(provider.token()))).status_code == 200
    fetched = provider.fetches
    for i in range(5):
        r = await gateway.get("/api/v1/regions/53", headers=_auth(provider.token(kid=f"new-{i}")))
        assert r.status_code == 401
    assert provider.fetches == fetched  # unknown kids within the minute cause no new fetch


async def test_refresh_on_unknown_kid_finds_a_rotated_key(idp: tuple[Idp, str]) -> None:
    provider, url = idp
    source = JwksSource(url, min_refresh=0.0)
    assert await source.get("idp-rsa") is not None
    rotated = ec.generate_private_key(ec.SECP256R1())
    provider.jwks["keys"].append(
        {**json.loads(ECAlgorithm.to_jwk(rotated.public_key())), "kid": "idp-2027", "alg": "ES256"}
    )
    assert await source.get("idp-2027") is not None


@pytest.mark.parametrize(
    ("location", "ok"),
    [
        ("https://idp.yn.gov.cn/jwks.json", True),
        ("http://127.0.0.1:8080/jwks.json", True),
        ("http://127.5.6.7/jwks.json", True),
        ("http://[::1]:9000/jwks.json", True),
        ("/etc/jiuzhu/idp-jwks.json", True),
        ("http://idp.yn.gov.cn/jwks.json", False),
        ("http://10.0.0.5/jwks.json", False),
        ("http://localhost/jwks.json", False),
        ("ftp://idp.yn.gov.cn/jwks.json", False),
    ],
)
def test_jwks_location_must_be_https_except_loopback(location: str, ok: bool) -> None:
    if ok:
        check_jwks_location(location)
    else:
        with pytest.raises(ValueError, match="https"):
            check_jwks_location(location)


def test_external_issuers_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "JIUZHU_EXTERNAL_ISSUERS", json.dumps({ISS: {"jwks": "https://idp/jwks", "audience": AUD}})
    )
    assert Settings().external_issuers[ISS].audience == AUD
