"""Limits, headers, CORS, metrics, logs and the merged API document (gateway.md, issue 4)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.types import Receive, Scope, Send

from gateway.limits import TokenBuckets
from services.common.settings import Settings
from tests.conftest import Stack, Tokens
from tests.gateway.test_proxy import gateway_with

MIB = 1024 * 1024


class Ticks:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


async def test_rate_limit_per_sub_and_recovery(stack: Stack, tokens: Tokens) -> None:
    ticks = Ticks()
    stack.app.gateway.per_sub = TokenBuckets(rate=20, burst=40, clock=ticks)
    alice = tokens.headers(sub="alice")
    answers = [await stack.gateway.get("/api/v1/regions/53", headers=alice) for _ in range(41)]
    assert [a.status_code for a in answers[:40]] == [200] * 40
    limited = answers[40]
    assert limited.status_code == 429 and limited.json()["code"] == "RATE_LIMITED"
    assert limited.headers["retry-after"] == "1"
    assert (
        await stack.gateway.get("/api/v1/regions/53", headers=tokens.headers(sub="bob"))
    ).status_code == 200
    ticks.t += 1.0
    assert (await stack.gateway.get("/api/v1/regions/53", headers=alice)).status_code == 200


async def test_body_limit_enforced_while_streaming(settings: Settings, db_url: str, tokens: Tokens) -> None:
    received: list[int] = []

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        total = 0
        while True:
            message = await receive()
            total += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        received.append(total)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def chunks(n: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
        for _ in range(n):
            yield b"x" * size

    mounts = {"http://staffing.test": httpx.ASGITransport(app=counting)}
    async with gateway_with(settings, db_url, mounts) as gw:
        h = tokens.headers()
        ok = await gw.post("/api/v1/work-logs", content=b"x" * MIB, headers=h)
        assert ok.status_code == 200
        declared = await gw.post("/api/v1/work-logs", content=b"x" * (MIB + 1), headers=h)
        assert declared.status_code == 413 and declared.json()["code"] == "BODY_TOO_LARGE"
        streamed = await gw.post("/api/v1/work-logs", content=chunks(40), headers=h)  # 2.5 MiB, no length
        assert streamed.status_code == 413
        big_import = await gw.post("/api/v1/region-stats/import", content=chunks(40), headers=h)
        assert big_import.status_code == 200  # imports may carry up to 20 MiB
        too_big_import = await gw.post("/api/v1/region-stats/import", content=chunks(321), headers=h)
        assert too_big_import.status_code == 413
    assert received[0] == MIB
    # The streamed request never reached the upstream whole: it was cut at the limit.
    assert all(n <= 20 * MIB for n in received)
    assert 40 * 64 * 1024 in received


async def test_security_headers_everywhere(stack: Stack, tokens: Tokens) -> None:
    for path, headers in [
        ("/api/v1/regions/53", tokens.headers()),
        ("/api/v1/regions/53", {}),
        ("/healthz", {}),
        ("/api/v1/nowhere", {}),
    ]:
        r = await stack.gateway.get(path, headers=headers)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "no-referrer", path
        assert "server" not in r.headers
        assert "strict-transport-security" not in r.headers
    authed = await stack.gateway.get("/api/v1/regions/53", headers=tokens.headers())
    assert authed.headers["cache-control"] == "no-store"


async def test_hsts_when_configured(settings: Settings, db_url: str) -> None:
    async with gateway_with(settings.model_copy(update={"hsts_seconds": 31536000}), db_url, {}) as gw:
        r = await gw.get("/healthz")
    assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_cors_allow_list(stack: Stack, tokens: Tokens) -> None:
    portal = "https://portal.example.gov.cn"
    preflight = {
        "Origin": portal,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,idempotency-key,content-type",
    }
    ok = await stack.gateway.options("/api/v1/regions", headers=preflight)
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == portal
    assert "idempotency-key" in ok.headers["access-control-allow-headers"].lower()
    evil = await stack.gateway.options(
        "/api/v1/regions", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in evil.headers
    simple = await stack.gateway.get("/api/v1/regions/53", headers={**tokens.headers(), "Origin": portal})
    assert simple.headers["access-control-allow-origin"] == portal
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    other = await stack.gateway.get(
        "/api/v1/regions/53", headers={**tokens.headers(), "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers


async def test_metrics_count_requests(stack: Stack, tokens: Tokens) -> None:
    await stack.gateway.get("/api/v1/regions/53", headers=tokens.headers())
    await stack.gateway.get("/api/v1/regions/5301", headers=tokens.headers())
    await stack.gateway.get("/api/v1/regions/53")
    text = (await stack.gateway.get("/metrics")).text
    assert 'jiuzhu_gateway_requests_total{method="GET",route="/api/v1/regions/{…}",status="200"} 2.0' in text
    assert 'jiuzhu_gateway_requests_total{method="GET",route="/api/v1/regions/{…}",status="401"} 1.0' in text
    assert 'jiuzhu_gateway_upstream_seconds_count{upstream="staffing"} 2.0' in text
    assert "jiuzhu_gateway_request_seconds_bucket" in text


async def test_logs_carry_request_ids_and_no_secrets(
    stack: Stack, tokens: Tokens, engine: object, capfd: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from gateway.accounts import add_user

    assert isinstance(engine, AsyncEngine)
    password = "a very secret password"
    async with engine.begin() as conn:
        await add_user(conn, "log.tester", password, role="county_official", region="530102")
    id_number = "530102197603150029"
    signin = await stack.gateway.post(
        "/auth/token", data={"grant_type": "password", "username": "log.tester", "password": password}
    )
    token = signin.json()["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    await stack.gateway.get(f"/api/v1/regions/530102?id_number={id_number}&access_token={token}", headers=h)
    await stack.gateway.get(f"/api/v1/persons/{id_number}", headers=h)
    await stack.gateway.post("/api/v1/regions", json={"code": "530102960", "name": id_number}, headers=h)
    await stack.gateway.get("/api/v1/regions/53", headers={"Authorization": f"Bearer {token}x"})
    captured = capfd.readouterr()
    logs = captured.err + captured.out
    assert logs, "nothing was logged"
    for secret in (token, password, id_number, token.split(".")[2]):
        assert secret not in logs
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "jiuzhu.access"]
    assert len(access) >= 5
    assert all(line["request_id"] != "-" for line in access)
    assert any("[id-number]" in line["msg"] for line in access)


async def test_merged_api_document(stack: Stack) -> None:
    r = await stack.gateway.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    validate(doc)
    assert "/api/v1/regions" in doc["paths"] and "/api/v1/events" in doc["paths"]
    assert "/auth/token" in doc["paths"] and "/healthz" in doc["paths"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert op.get("summary"), (method, path)
    names = list(doc["components"]["schemas"])
    assert len(names) == len(set(names))
    assert "Page_RegionRead_" in names  # shared components appear once
    for name, schema in doc["components"]["schemas"].items():
        if name.startswith("Body_"):
            continue
        for prop, spec in schema.get("properties", {}).items():
            assert spec.get("description"), (name, prop)
    docs = await stack.gateway.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_merge_renames_clashing_components() -> None:
    from gateway.openapi import merge

    def doc(prop: str, path: str) -> dict[str, object]:
        return {
            "paths": {
                path: {
                    "get": {
                        "summary": "s",
                        "responses": {
                            "200": {
                                "content": {
                                    "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                                }
                            }
                        },
                    }
                }
            },
            "components": {
                "schemas": {
                    "Thing": {"type": "object", "properties": {prop: {"type": "string"}}},
                    "Shared": {"type": "string"},
                }
            },
        }

    merged = merge(
        {"staffing": doc("a", "/api/v1/regions"), "contract": doc("b", "/api/v1/contracts")}, "t", "1"
    )
    schemas = merged["components"]["schemas"]
    assert set(schemas) == {"Thing", "contract_Thing", "Shared"}
    ref = merged["paths"]["/api/v1/contracts"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]["$ref"]
    assert ref == "#/components/schemas/contract_Thing"


async def test_metrics_are_not_for_everyone(stack: Stack, settings: Settings) -> None:
    """Without a token configured only a client on this machine reads /metrics; with one, only a request
    carrying it, from anywhere. Everyone else gets 404, as for a route that is not there."""
    remote = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stack.app, client=("10.1.2.3", 40000)), base_url="http://gw.test"
    )
    async with remote:
        assert (await remote.get("/metrics")).status_code == 404
        assert (await stack.gateway.get("/metrics")).status_code == 200  # 127.0.0.1
        settings.metrics_token = "scrape-me-7f3c"
        assert (await stack.gateway.get("/metrics")).status_code == 404
        assert (await remote.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 404
        ok = await remote.get("/metrics", headers={"Authorization": "Bearer scrape-me-7f3c"})
        assert ok.status_code == 200 and "jiuzhu_gateway_requests_total" in ok.text
