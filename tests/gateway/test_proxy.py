"""The gateway's verifying proxy: routing, streaming, headers, 502/504, health, JWKS."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
import pytest
from starlette.types import Receive, Scope, Send

from gateway.app import create_app as create_gateway
from gateway.proxy import READ_WHOLE_LIMIT
from gateway.routing import resolve
from services.common.settings import Settings
from tests.conftest import Stack, Tokens


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("/api/v1/regions/53", "staffing"),
        ("/api/v1/quotas", "staffing"),
        ("/api/v1/quota-summary/53", "staffing"),
        ("/api/v1/events", "staffing"),
        ("/api/v1/audit-events", "staffing"),
        ("/api/v1/contracts/1", "contract"),
        ("/api/v1/public/contracts", "contract"),
        ("/api/v1/violations", "penalty"),
        ("/api/v1/quotasx", None),
        ("/api/v1/region", None),
        ("/api/v2/regions", None),
        ("/regions", None),
    ],
)
def test_routing_matches_whole_segments(path: str, upstream: str | None) -> None:
    assert resolve(path) == upstream


async def _body_of(receive: Receive) -> bytes:
    """An upstream's view of the request body: every chunk until the last."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """An upstream that answers with what it received, and sets hop-by-hop headers of its own."""
    body = await _body_of(receive)
    payload = {
        "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
        "path": scope["path"],
        "query": scope["query_string"].decode(),
        "body": body.decode(),
    }
    await send(
        {
            "type": "http.response.start",
            "status": 418,
            "headers": [
                (b"content-type", b"application/json"),
                (b"connection", b"x-private"),
                (b"x-private", b"1"),
                (b"keep-alive", b"timeout=5"),
                (b"server", b"upstream/1.0"),
                (b"x-kept", b"yes"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


@asynccontextmanager
async def gateway_with(
    settings: Settings, db_url: str, mounts: dict[str, Any]
) -> AsyncIterator[httpx.AsyncClient]:
    gw = create_gateway(settings, db_url, mounts)
    ops = gw.gateway.ops  # type: ignore[attr-defined]
    async with (
        ops.router.lifespan_context(ops),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gw, raise_app_exceptions=False, client=("203.0.113.9", 5000)),
            base_url="http://gateway.test",
        ) as client,
    ):
        yield client


async def test_forwarding_headers_and_body(settings: Settings, db_url: str, tokens: Tokens) -> None:
    mounts = {"http://staffing.test": httpx.ASGITransport(app=echo)}
    async with gateway_with(settings, db_url, mounts) as client:
        r = await client.post(
            "/api/v1/work-logs/batch?x=1&y=%E4%B8%AD",
            content=b'{"items": []}',
            headers={
                **tokens.headers(),
                "Connection": "keep-alive, x-hop",
                "X-Hop": "secret",
                "Proxy-Authorization": "Basic abc",
                "TE": "trailers",
                "X-Request-ID": "abc-123",
                "X-Forwarded-For": "198.51.100.1",
                "Content-Type": "application/json",
            },
        )
    assert r.status_code == 418  # upstream answers pass through unchanged
    seen = dict(r.json()["headers"])
    assert r.json()["path"] == "/api/v1/work-logs/batch" and r.json()["query"] == "x=1&y=%E4%B8%AD"
    assert r.json()["body"] == '{"items": []}'
    for hop in ("x-hop", "proxy-authorization", "te"):
        assert hop not in seen
    assert "x-hop" not in seen.get("connection", "")  # the gateway's own pool may say keep-alive
    assert seen["authorization"].startswith("Bearer ")  # the same token is forwarded
    assert seen["x-request-id"] == "abc-123"
    assert seen["x-forwarded-for"] == "198.51.100.1, 203.0.113.9"
    assert seen["x-forwarded-proto"] == "http"
    assert r.headers["x-request-id"] == "abc-123"
    assert r.headers["x-kept"] == "yes"
    for hop in ("x-private", "keep-alive", "server"):
        assert hop not in r.headers


async def test_gateway_verifies_before_proxying(settings: Settings, db_url: str) -> None:
    calls: list[str] = []

    async def spy(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["path"])
        await echo(scope, receive, send)

    async with gateway_with(
        settings, db_url, {"http://staffing.test": httpx.ASGITransport(app=spy)}
    ) as client:
        r = await client.get("/api/v1/regions/53")
        assert r.status_code == 401
        bad = await client.get("/api/v1/regions/53", headers={"Authorization": "Bearer x.y.z"})
        assert bad.status_code == 401
    assert calls == []


async def test_public_and_unknown_paths(settings: Settings, db_url: str) -> None:
    mounts = {"http://contract.test": httpx.ASGITransport(app=echo)}
    async with gateway_with(settings, db_url, mounts) as client:
        public = await client.get("/api/v1/public/contracts")
        assert public.status_code == 418  # reached the upstream without a token
        unknown = await client.get("/api/v1/nothing-here")
        assert unknown.status_code == 404 and unknown.json()["code"] == "NOT_FOUND"
        assert unknown.headers["content-type"].startswith("application/problem+json")
        other = await client.get("/not-api")
        assert other.status_code == 404 and other.json()["code"] == "NOT_FOUND"


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_upstream(settings: Settings, handler: Handler, **update: Any) -> AsyncIterator[Settings]:
    """A bare asyncio server standing in for staffing_api, to misbehave at the socket level; yields the
    settings (with ``update``) that point the gateway at it."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield settings.model_copy(update={"upstream_staffing": f"http://127.0.0.1:{port}", **update})
    finally:
        server.close()
        await server.wait_closed()


Answerer = Callable[[asyncio.StreamReader, bytes], Awaitable[bytes]]


def answering(answer: Answerer) -> Handler:
    """A raw upstream's connection: each request's head read, then ``answer`` (which may read the
    body) gives the bytes written back, until the gateway closes the connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            writer.write(await answer(reader, head))
            await writer.drain()
        writer.close()

    return handle


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_upstream_down_is_502(settings: Settings, db_url: str, tokens: Tokens) -> None:
    down = settings.model_copy(
        update={"upstream_staffing": f"http://127.0.0.1:{_free_port()}", "metrics_token": "scraper"}
    )
    scraper = {"Authorization": "Bearer scraper"}  # this client is not on the loopback
    async with gateway_with(down, db_url, {}) as client:
        r = await client.get("/api/v1/regions/53", headers=tokens.headers())
        assert r.status_code == 502
        assert r.json()["code"] == "UPSTREAM_UNAVAILABLE"
        assert r.json()["request_id"] == r.headers["x-request-id"]
        assert "127.0.0.1" not in r.text  # no internal addresses
        text = (await client.get("/metrics", headers=scraper)).text
        # A GET that never reached the upstream is tried twice: the first try and one retry.
        assert 'jiuzhu_gateway_upstream_errors_total{kind="unreachable",upstream="staffing"} 2.0' in text
        w = await client.post("/api/v1/regions", json={}, headers=tokens.headers())
        assert w.status_code == 502
        text = (await client.get("/metrics", headers=scraper)).text
        assert 'jiuzhu_gateway_upstream_errors_total{kind="unreachable",upstream="staffing"} 3.0' in text
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and "staffing: unreachable" in ready.json()["problems"]


async def test_upstream_slow_is_504(settings: Settings, db_url: str, tokens: Tokens) -> None:
    """A real socket that accepts and never answers: the gateway gives up after upstream_timeout."""
    held: list[asyncio.StreamWriter] = []

    async def never_answer(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        held.append(w)

    async with raw_upstream(settings, never_answer, upstream_timeout=0.5) as slow:
        try:
            async with gateway_with(slow, db_url, {}) as client:
                r = await client.get("/api/v1/regions/53", headers=tokens.headers())
                assert r.status_code == 504
                assert r.json()["code"] == "UPSTREAM_TIMEOUT"
                w = await client.post("/api/v1/regions", json={}, headers=tokens.headers())
                assert w.status_code == 504
        finally:
            for w in held:  # closed before the server, which (3.12+) waits for them
                w.close()


async def test_health_and_jwks(stack: Stack, tokens: Tokens) -> None:
    for client in (stack.gateway, *stack.direct.values()):
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
    jwks = (await stack.gateway.get("/.well-known/jwks.json")).json()
    token = tokens("province_admin", "53")
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    assert key["kty"] == "EC" and key["alg"] == "ES256" and "d" not in key
    public = jwt.PyJWK(key).key
    claims = jwt.decode(token, public, algorithms=["ES256"], audience="jiuzhu-api")
    assert claims["role"] == "province_admin"


async def test_service_readyz_reports_schema_behind(stack: Stack) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(stack.db_url)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    await engine.dispose()
    r = await stack.direct["penalty"].get("/readyz")
    assert r.status_code == 503
    assert r.json()["problems"] == ["database schema is not at the migrations' head"]
    assert (await stack.gateway.get("/readyz")).status_code == 503


async def test_real_upstream_and_no_cookie_jar(settings: Settings, db_url: str, tokens: Tokens) -> None:
    """Over real sockets (the aiohttp pool): one caller's upstream cookie never reaches another caller."""
    seen: list[bytes] = []

    async def answer(_reader: asyncio.StreamReader, head: bytes) -> bytes:
        seen.append(head)
        body = b'{"ok": true}'
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Set-Cookie: session=alice-secret; Path=/\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )

    async with raw_upstream(settings, answering(answer)) as real, gateway_with(real, db_url, {}) as client:
        first = await client.get("/api/v1/regions/53", headers=tokens.headers(sub="alice"))
        assert first.status_code == 200 and first.headers["set-cookie"].startswith("session=alice-secret")
        client.cookies.clear()  # the test's own client keeps a jar; the gateway must not
        second = await client.get("/api/v1/regions/53", headers=tokens.headers(sub="bob"))
        assert second.status_code == 200
    assert len(seen) == 2
    assert b"alice-secret" not in seen[1]
    assert b"cookie:" not in seen[1].lower()


async def _read_request_body(reader: asyncio.StreamReader, head: bytes) -> tuple[str, bytes]:
    """How a raw upstream received a request body: framed by Content-Length or chunked."""
    lines = head.decode("latin-1").lower().split("\r\n")
    length = next((int(line.split(":", 1)[1]) for line in lines if line.startswith("content-length:")), None)
    if length is not None:
        return "length", await reader.readexactly(length)
    assert "transfer-encoding: chunked" in lines, head
    body = b""
    while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
        body += await reader.readexactly(size)
        await reader.readexactly(2)
    await reader.readexactly(2)
    return "chunked", body


async def test_a_write_body_reaches_a_real_upstream_whole_in_one_piece_or_streamed(
    settings: Settings, db_url: str, tokens: Tokens
) -> None:
    """A body that comes in one message is sent on as it is, with its length; one that comes in
    several streams through, chunk by chunk, and arrives the same."""
    received: list[tuple[str, bytes]] = []

    async def answer(reader: asyncio.StreamReader, head: bytes) -> bytes:
        received.append(await _read_request_body(reader, head))
        return b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}"

    parts = [b'{"a": "', b"x" * 100_000, b'"}']

    async def streamed() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    async with raw_upstream(settings, answering(answer)) as real, gateway_with(real, db_url, {}) as client:
        one = await client.post("/api/v1/regions", content=b'{"a": "b"}', headers=tokens.headers())
        assert one.status_code == 201
        many = await client.post("/api/v1/regions", content=streamed(), headers=tokens.headers())
        assert many.status_code == 201
    assert received[0] == ("length", b'{"a": "b"}')
    assert received[1] == ("chunked", b"".join(parts))


async def test_only_idempotent_gets_are_retried_once(settings: Settings, db_url: str, tokens: Tokens) -> None:
    """The upstream drops every other connection without answering: a GET is retried, a POST is not."""
    connections = 0

    async def flaky(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        if connections % 2 == 1:
            await reader.readuntil(b"\r\n\r\n")
            writer.close()  # dropped before any answer
            return
        while True:
            try:
                await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}")
            await writer.drain()
        writer.close()

    async with raw_upstream(settings, flaky) as real, gateway_with(real, db_url, {}) as client:
        got = await client.get("/api/v1/regions/53", headers=tokens.headers())
        assert got.status_code == 200
        assert connections == 2  # one retry, on a new connection
    connections = 0
    async with raw_upstream(settings, flaky) as real, gateway_with(real, db_url, {}) as client:
        posted = await client.post(
            "/api/v1/regions", json={"code": "530102950", "name": "x"}, headers=tokens.headers()
        )
        assert posted.status_code == 502
        assert connections == 1  # a write is never sent twice by the gateway


@pytest.mark.parametrize(
    ("method", "length", "outcome"),
    [
        ("GET", READ_WHOLE_LIMIT, "retried"),
        ("GET", READ_WHOLE_LIMIT + 1, "cut"),
        ("POST", READ_WHOLE_LIMIT, "502"),
        ("POST", READ_WHOLE_LIMIT + 1, "cut"),
    ],
)
async def test_an_answer_cut_mid_body_is_never_passed_on_cut_when_small(
    settings: Settings, db_url: str, tokens: Tokens, method: str, length: int, outcome: str
) -> None:
    """The upstream's first connection sends its headers and half its body, then dies, as a replica
    killed mid-answer does. An answer of at most READ_WHOLE_LIMIT bytes was held back whole: a read is
    sent again and the client sees the whole answer in one message; a write is never sent twice, so its
    client gets 502. A larger answer streamed, and the client sees the cut (its headers were gone
    before the replica died)."""
    connections = 0
    body = b"x" * length

    async def cutting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        first = connections == 1
        while True:
            try:
                await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % length
            writer.write(head + (body[: length // 2] if first else body))
            await writer.drain()
            if first:
                break
        writer.close()

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    headers = [(k.lower().encode(), v.encode()) for k, v in tokens.headers().items()]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": "/api/v1/regions/53", "raw_path": b"/api/v1/regions/53",
        "query_string": b"", "root_path": "", "client": ("203.0.113.9", 5000),
        "server": ("gateway.test", 80), "headers": headers,
    }  # fmt: skip
    async with raw_upstream(settings, cutting) as real:
        gw = create_gateway(real, db_url, {})
        ops = gw.gateway.ops  # type: ignore[attr-defined]
        async with ops.router.lifespan_context(ops):
            await asyncio.wait_for(gw(scope, receive, send), 10)
    assert sent[0]["type"] == "http.response.start"
    received = b"".join(m.get("body", b"") for m in sent[1:])
    whole = sent[-1]["type"] == "http.response.body" and not sent[-1].get("more_body", False)
    if outcome == "retried":
        assert sent[0]["status"] == 200 and connections == 2 and received == body
        assert len(sent) == 2 and whole  # headers, then the whole body in one message
    elif outcome == "502":
        assert sent[0]["status"] == 502 and connections == 1 and whole
        assert json.loads(received)["code"] == "UPSTREAM_UNAVAILABLE"
    else:
        assert sent[0]["status"] == 200 and connections == 1 and len(received) < length and not whole


async def test_upstream_connections_cap_each_replica(settings: Settings, db_url: str, tokens: Tokens) -> None:
    """With JIUZHU_UPSTREAM_CONNECTIONS=2, ten concurrent requests reach the replica over two
    connections, the rest waiting their turn; readiness has a pool of its own and is not queued."""
    open_now = most = 0
    release = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                if b"/readyz" not in head:
                    await release.wait()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"
                )
                await writer.drain()
        finally:
            open_now -= 1
            writer.close()

    async with (
        raw_upstream(settings, slow, upstream_connections=2) as capped,
        gateway_with(capped, db_url, {}) as client,
    ):
        reads = [
            asyncio.create_task(client.get("/api/v1/regions/53", headers=tokens.headers())) for _ in range(10)
        ]
        await asyncio.sleep(0.5)
        assert most == 2  # the other eight wait in the gateway, not on the replica
        ready = await client.get("/readyz")  # staffing's replica answers it on a third connection
        assert "staffing" not in json.dumps(ready.json()["problems"])
        release.set()
        answers = await asyncio.gather(*reads)
    assert [a.status_code for a in answers] == [200] * 10
    assert most == 3


async def test_every_service_reverifies_tokens(stack: Stack, tokens: Tokens) -> None:
    """Straight to any service, bypassing the gateway: no valid token, 401; a valid one gets on."""
    for name, client in stack.direct.items():
        assert (await client.get("/api/v1/anything")).status_code == 401, name
        bad = await client.get("/api/v1/anything", headers={"Authorization": "Bearer x.y.z"})
        assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["www-authenticate"], name
        ok = await client.get("/api/v1/anything", headers=tokens.headers())
        assert ok.status_code == 404 and ok.json()["code"] == "NOT_FOUND", name


async def test_chunked_body_over_the_limit_is_413_through_a_real_upstream(
    settings: Settings, db_url: str, tokens: Tokens, live_staffing: httpx.AsyncClient
) -> None:
    """A body without Content-Length is measured while aiohttp sends it on to a real uvicorn; the
    limit hit inside that write is still the client's 413, not a 502."""

    async def chunks(n: int) -> AsyncIterator[bytes]:
        for _ in range(n):
            yield b"x" * (64 * 1024)

    # The suite's 1 s deadline is for the in-process stack; the small request below is the first one a
    # freshly started worker of the live service answers, and under a loaded suite that once took
    # longer (a 504). What this test checks is the status of each body, not the service's speed.
    real = settings.model_copy(
        update={"upstream_staffing": str(live_staffing.base_url).rstrip("/"), "upstream_timeout": 10.0}
    )
    async with gateway_with(real, db_url, {}) as gw:
        r = await gw.post("/api/v1/work-logs", content=chunks(40), headers=tokens.headers())  # 2.5 MiB
        assert r.status_code == 413 and r.json()["code"] == "BODY_TOO_LARGE", r.text
        small = await gw.post("/api/v1/work-logs", content=chunks(1), headers=tokens.headers())
        assert small.status_code == 422  # under the limit it reaches the service (no JSON body: 422)
        assert (await gw.get("/api/v1/regions/53", headers=tokens.headers())).status_code == 200


async def test_a_client_gone_before_its_body_is_whole_is_not_forwarded(
    settings: Settings, db_url: str, tokens: Tokens, capfd: pytest.CaptureFixture[str]
) -> None:
    """uvicorn answers ``http.disconnect`` once the client has left, even for body bytes it had
    read. Sent on short of its Content-Length, the request would hold an upstream connection and
    the service until the gateway's deadline; it is dropped instead, and nothing is answered."""
    reached: list[bytes] = []

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(await _body_of(receive))
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    gw = create_gateway(settings, db_url, {"http://staffing.test": httpx.ASGITransport(app=recording)})
    ops = gw.gateway.ops  # type: ignore[attr-defined]
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def post(messages: list[dict[str, Any]]) -> None:
        async def receive() -> Any:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        headers = [(k.lower().encode(), v.encode()) for k, v in tokens.headers().items()]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/api/v1/regions", "raw_path": b"/api/v1/regions", "query_string": b"",
            "root_path": "", "client": ("203.0.113.9", 5000), "server": ("gateway.test", 80),
            "headers": [*headers, (b"content-type", b"application/json"), (b"content-length", b"11")],
        }  # fmt: skip
        await asyncio.wait_for(gw(scope, receive, send), 5)

    async with ops.router.lifespan_context(ops):
        await post([])  # gone before a byte of the body
        await post([{"type": "http.request", "body": b'{"a":', "more_body": True}])  # gone halfway
        assert reached == [] and sent == []
        await post([{"type": "http.request", "body": b'{"a": "b"}\n', "more_body": False}])  # the control
    assert reached == [b'{"a": "b"}\n'] and sent[0]["status"] == 201
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    logged = [line["msg"].split()[2] for line in lines if line["logger"] == "jiuzhu.access"]
    assert logged == ["499", "499", "201"]  # nginx's "client closed request": nothing was answered
