"""A streaming reverse proxy on one shared keep-alive pool: bodies are never buffered whole, except a
read's request body and a read's small answer, so that a read can be sent again."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping

import httpx
from starlette.types import Receive, Scope, Send

from gateway.frontdoor import Metrics
from gateway.replicas import Replicas
from gateway.upstream import Answer, Content, Upstream
from services.common.errors import DomainError

log = logging.getLogger("jiuzhu.gateway")

# An answer up to this size is read whole before its headers go to the client: a replica that dies
# mid-answer then costs a read a retry on the next one, and a write a 502, never a cut answer; and the
# whole answer goes to the client in one message, which costs the gateway one pass fewer through its
# ASGI layers per request. Larger answers (exports) and answers without Content-Length stream through.
READ_WHOLE_LIMIT = 256 * 1024

# RFC 9110 §7.6.1 connection-specific fields, never forwarded.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


def _strip_hop_by_hop(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP and k.lower() not in named]


def upstream_unreachable() -> DomainError:
    return DomainError(
        "UPSTREAM_UNAVAILABLE", "后端服务不可用", "The service behind the gateway is unreachable", 502
    )


def upstream_timeout() -> DomainError:
    return DomainError(
        "UPSTREAM_TIMEOUT", "后端服务响应超时", "The service behind the gateway timed out", 504
    )


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    """The client disconnected before its request body was whole."""


def body_too_large(limit: int) -> DomainError:
    mib = limit / (1024 * 1024)
    return DomainError(
        "BODY_TOO_LARGE",
        f"请求体超过 {mib:g} MiB 上限",
        f"The request body exceeds the {mib:g} MiB limit",
        413,
    )


class _Body:
    """The request body as it arrives, cut off (not buffered first) once it passes ``limit``.

    A body that came whole in its first message — an API request's JSON, nearly always — is sent on
    as bytes; a longer one streams through as it arrives. A stream without ``Content-Length``
    (chunked) can only be measured while it is sent on. The upstream transport reads it inside its
    own write, and a transport wraps an exception raised there in its own error (aiohttp's surfaces
    as a connection error), so ``exceeded`` records the cause for the caller to answer 413 rather
    than 502.

    A client that disconnects before its body is whole (a phone losing its signal) ends the
    request: uvicorn then answers ``http.disconnect`` even for bytes it had already read, and a body
    sent on short of its ``Content-Length`` would keep the upstream connection and the service
    waiting for the rest until the gateway's deadline. ``gone`` records it, like ``exceeded``."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive, self.limit = receive, limit
        self.seen = 0
        self.exceeded = False
        self.gone = False

    async def content(self, *, whole: bool) -> Content:
        """The body as bytes if it came in one message, or read to its end when ``whole`` (a read,
        which may have to be sent again); else a stream beginning with what came."""
        first, more = await self._next()
        if not more:
            return first
        rest = self._rest(first)
        return b"".join([c async for c in rest]) if whole else rest

    async def _rest(self, first: bytes) -> AsyncIterator[bytes]:
        if first:
            yield first
        more = True
        while more:
            chunk, more = await self._next()
            if chunk:
                yield chunk

    async def _next(self) -> tuple[bytes, bool]:
        message = await self.receive()
        if message["type"] == "http.disconnect":
            self.gone = True
            raise ClientGone
        chunk: bytes = message.get("body", b"")
        self.seen += len(chunk)
        if self.seen > self.limit:
            self.exceeded = True
            raise BodyTooLarge
        return chunk, bool(message.get("more_body", False))


async def forward(
    upstreams: Mapping[str, Upstream],
    upstream: str,
    pool: Replicas,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    request_id: str,
    body_limit: int,
    metrics: Metrics,
    deadline_seconds: float,
) -> None:
    """Send the request to one of the service's replicas and stream the answer back; raise
    DomainError for 413/502/504. A read (GET, HEAD: idempotent, RFC 9110 §9.2.2) that could not be
    answered — the replica unreachable, or gone mid-request — is sent again to the next replica
    (or, with one replica, once more to it); a write goes out once, as its body streams through."""
    declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
    if declared is not None and declared.isdigit() and int(declared) > body_limit:
        raise body_too_large(body_limit)
    headers = [
        (k, v)
        for k, v in _strip_hop_by_hop(list(scope["headers"]))
        if k.lower() not in (b"host", b"x-request-id")
    ]
    client_addr = scope.get("client")
    forwarded_for = next((v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"), None)
    headers = [(k, v) for k, v in headers if k not in (b"x-forwarded-for", b"x-forwarded-proto")]
    if client_addr:
        chain = f"{forwarded_for}, {client_addr[0]}" if forwarded_for else client_addr[0]
        headers.append((b"x-forwarded-for", chain.encode("latin-1")))
    headers.append((b"x-forwarded-proto", scope.get("scheme", "http").encode()))
    headers.append((b"x-request-id", request_id.encode()))

    method: str = scope["method"]
    target = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("latin-1")
    # Only idempotent reads are retried, so only they are read whole first; a write's longer body
    # streams through.
    retryable = method in ("GET", "HEAD")
    body = _Body(receive, body_limit)
    try:
        content = await body.content(whole=retryable)
    except BodyTooLarge:
        raise body_too_large(body_limit) from None
    except ClientGone:
        return _client_gone(upstream)

    order = pool.order()
    attempts = max(2, len(order)) if retryable else 1
    response: Answer | None = None
    whole: bytes | None = None
    started = time.perf_counter()
    for attempt in range(attempts):
        base = order[attempt % len(order)]
        try:
            response = await upstreams[base].send(method, base + target, headers, content, deadline_seconds)
            if method != "HEAD":  # a HEAD, a 204 or a 304 declares a length it does not send
                whole = await _read_small(response)
            pool.answered(base)
            break
        except BodyTooLarge:
            raise body_too_large(body_limit) from None
        except ClientGone:
            return _client_gone(upstream)
        except httpx.TransportError as exc:
            if body.exceeded:
                raise body_too_large(body_limit) from None
            if body.gone:
                return _client_gone(upstream)
            kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "unreachable"
            metrics.upstream_errors.labels(upstream, kind).inc()
            log.warning(
                "upstream %s %s %s (attempt %d): %s", upstream, base, kind, attempt + 1, type(exc).__name__
            )
            if kind == "timeout":
                raise upstream_timeout() from None
            pool.failed(base)  # passed over for a while: the next requests go to the others
            if attempt + 1 == attempts:
                raise upstream_unreachable() from None
    metrics.upstream_latency.labels(upstream).observe(time.perf_counter() - started)
    assert response is not None  # noqa: S101 - the loop either sets it or raises
    try:
        # The gateway's own server adds Date; Server banners are never shown.
        out_headers = [
            (k, v)
            for k, v in _strip_hop_by_hop(response.headers)
            if k.lower() not in (b"server", b"date", b"x-request-id")
        ]
        out_headers.append((b"x-request-id", request_id.encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": out_headers})
        if whole is not None:
            await send({"type": "http.response.body", "body": whole, "more_body": False})
            return
        async for chunk in response.chunks():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    except httpx.HTTPError as exc:
        # Headers are gone already: the client sees a cut response, the log says why.
        metrics.upstream_errors.labels(upstream, "aborted").inc()
        log.warning("upstream %s failed mid-response: %s", upstream, type(exc).__name__)
    finally:
        if whole is None:  # _read_small closed it
            await response.aclose()


async def _read_small(response: Answer) -> bytes | None:
    """The answer's body, read, if it declares one of at most READ_WHOLE_LIMIT bytes; else None, the
    body left to stream. A body cut short raises the transport's error here, before anything went to
    the client."""
    declared = next((v for k, v in response.headers if k.lower() == b"content-length"), b"")
    if response.status in (204, 304) or not declared.isdigit() or int(declared) > READ_WHOLE_LIMIT:
        return None
    try:
        body = await response.read()
    finally:
        await response.aclose()
    if len(body) != int(declared):  # aiohttp ends a short body quietly when the socket closes
        raise httpx.ReadError("answer shorter than its Content-Length")
    return body


def _client_gone(upstream: str) -> None:
    """Nothing to answer: the request was abandoned before it was whole, and not sent on whole."""
    log.info("client disconnected before its request to %s was whole; not forwarded", upstream)
