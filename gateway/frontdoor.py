"""What every gateway response gets: security headers, metrics, one JSON access-log line.

Pure ASGI, so streaming bodies pass straight through. The access log records the path with
anything that looks like an ID number or a phone number masked, and never the query string
(where a careless client may put a token) or any header value.
"""

from __future__ import annotations

import logging
import re
import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.routing import API_PREFIX, ROUTES

access_log = logging.getLogger("jiuzhu.access")
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9Xx]")
_PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
OPS_PATHS = frozenset(
    {
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/docs",
        "/.well-known/jwks.json",
        "/auth/token",
        "/auth/revoke",
    }
)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


# Swagger UI: its own inline start-up script and styles, everything else from the gateway itself, so
# the browser is told not to fetch from anywhere else.
CLIENT_CLOSED = 499  # logged when the client disconnected before any answer
DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


class Metrics:
    """Each gateway has its own registry (tests build many gateways in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "jiuzhu_gateway_requests",
            "Requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "jiuzhu_gateway_request_seconds",
            "Time to the end of the response, by route template",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_latency = Histogram(
            "jiuzhu_gateway_upstream_seconds",
            "Time to the upstream's response headers",
            ["upstream"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "jiuzhu_gateway_upstream_errors",
            "Upstream failures by kind (unreachable, timeout, aborted)",
            ["upstream", "kind"],
            registry=self.registry,
        )


def route_template(path: str) -> str:
    """A label with bounded cardinality: the routing-table entry, never ids from the path."""
    if path in OPS_PATHS:
        return path
    if path.startswith(API_PREFIX):
        segment, _, rest = path[len(API_PREFIX) :].partition("/")
        if segment in ROUTES:
            return f"{API_PREFIX}{segment}" + ("/{…}" if rest else "")
    return "unmatched"


def mask(path: str) -> str:
    return _PHONE.sub("[phone]", _ID_NUMBER.sub("[id-number]", path))


class FrontDoor:
    def __init__(self, app: ASGIApp, metrics: Metrics, *, hsts_seconds: int = 0) -> None:
        self.app = app
        self.metrics = metrics
        self.static_headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]
        if hsts_seconds > 0:
            self.static_headers.append(
                (b"strict-transport-security", f"max-age={hsts_seconds}; includeSubDomains".encode())
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        path: str = scope["path"]
        authenticated = any(k == b"authorization" for k, _ in scope["headers"])
        api = path.startswith(API_PREFIX)
        docs = path == "/docs" or path.startswith("/docs/")
        status = 0  # until an answer starts

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                headers += self.static_headers
                if api:
                    headers.append(
                        (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
                    )
                elif docs:
                    headers.append((b"content-security-policy", DOCS_CSP))
                if authenticated or path == "/auth/token":
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except BaseException:
            status = status or 500
            raise
        finally:
            # Nothing answered and nothing raised: the client left first (nginx's 499).
            status = status or CLIENT_CLOSED
            elapsed = time.perf_counter() - start
            route = route_template(path)
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(elapsed)
            access_log.info(
                "%s %s %d %.1fms",
                scope["method"],
                mask(path),
                status,
                elapsed * 1000,
                extra={"route": route, "status": status},
            )
