"""The gateway: the front door (sign-in, limits, headers, metrics) and a verifying proxy."""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway import openapi, proxy, replicas, routing, shared
from gateway.frontdoor import FrontDoor, Metrics
from gateway.limits import body_limit, retry_after
from gateway.replicas import Replicas
from gateway.signin import SignIn
from gateway.upstream import AiohttpUpstream, HttpxUpstream, Upstream
from services.common import problems, swagger
from services.common.auth.keys import CachedPublicKeys, KeyStore
from services.common.auth.revocation import RevocationList
from services.common.auth.tokens import TokenVerifier
from services.common.database import Database, resolve_url
from services.common.errors import DomainError, not_found
from services.common.health import database_problems
from services.common.logs import configure_logging
from services.common.requestid import RequestIdMiddleware
from services.common.runtime import settle_heap
from services.common.settings import Settings, get_settings

log = logging.getLogger("jiuzhu.gateway")
Clock = Callable[[], datetime]


def rate_limited(seconds: float) -> DomainError:
    return DomainError(
        "RATE_LIMITED",
        "请求过于频繁，请稍后重试",
        "Too many requests; slow down",
        429,
        headers={"Retry-After": retry_after(seconds)},
    )


class Gateway:
    """Pure ASGI on the hot path (``/api/…``); a small Starlette app for everything else."""

    def __init__(
        self,
        settings: Settings,
        database_url: str | None = None,
        mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.database_url = database_url
        self.mounts = dict(mounts or {})
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        eject = settings.upstream_eject_seconds
        self.upstreams: dict[routing.Upstream, Replicas] = {
            "staffing": Replicas(replicas.parse(settings.upstream_staffing), eject),
            "contract": Replicas(replicas.parse(settings.upstream_contract), eject),
            "penalty": Replicas(replicas.parse(settings.upstream_penalty), eject),
        }
        self.keys = CachedPublicKeys(KeyStore(settings.keys_dir), settings.key_reload_interval)
        self.metrics = Metrics()
        shared_dir = settings.gateway_shared_dir  # several worker processes, one set of limits
        self.per_sub = shared.buckets(shared_dir, "per-sub", settings.rate_per_sub, settings.burst_per_sub)
        # Public routes need no token, so the only key a stranger brings is its address.
        self.per_address = shared.buckets(
            shared_dir, "public-per-address", settings.public_rate, settings.public_burst
        )
        self._document: dict[str, Any] | None = None
        self.ops = Starlette(
            routes=[
                Route("/healthz", self.healthz),
                Route("/readyz", self.readyz),
                Route("/.well-known/jwks.json", self.jwks),
                Route("/metrics", self.metrics_text),
                Route("/openapi.json", self.openapi_json),
                *swagger.routes("/openapi.json", "Jiuzhu 救助 API"),
                Route("/auth/token", self.token, methods=["POST"]),
                Route("/auth/revoke", self.revoke, methods=["POST"]),
            ],
            lifespan=self.lifespan,
            exception_handlers={404: self.not_found, 405: self.not_found},
        )

    @asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        configure_logging("gateway")
        self.db = Database(
            # Sign-in, the deny-list refresh and readiness only: a few connections are plenty.
            self.database_url or resolve_url(self.settings),
            pool_size=min(4, self.settings.db_pool_size),
            role=self.settings.db_role,
        )
        shared_dir = self.settings.gateway_shared_dir
        self.revoked = RevocationList(
            self.db.engine,
            self.settings.revocation_cache_seconds,
            shared.SharedCounter(shared_dir / "revocations") if shared_dir else None,
        )
        self.verifier = TokenVerifier(self.settings, self.keys, self.revoked.contains)
        self.signin = SignIn(self.settings, self.db.engine, self.verifier, self.revoked, self.clock)
        # The proxy's pool (gateway/upstream.py): aiohttp's, called directly. httpcore's pool cost ~1 ms
        # of CPU per request at 64 concurrent requests (measured with py-spy, bench/README.md).
        pooled = AiohttpUpstream(self.settings.upstream_connections)
        self.upstream_pools: dict[str, Upstream] = {
            base: HttpxUpstream(self.mounts[base]) if base in self.mounts else pooled
            for pool in self.upstreams.values()
            for base in pool.bases
        }
        # Readiness and the API documents: a few requests a minute, on httpx's own pool, never
        # queued behind the traffic.
        self.client = httpx.AsyncClient(mounts=self.mounts or None, timeout=5.0, follow_redirects=False)
        settle_heap()
        try:
            yield
        finally:
            await pooled.aclose()
            await self.client.aclose()
            for transport in self.mounts.values():
                await transport.aclose()
            await self.db.dispose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(routing.API_PREFIX):
            await self.api(scope, receive, send)
        else:
            await self.ops(scope, receive, send)

    async def api(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id: str = scope["state"]["request_id"]
        path: str = scope["path"]
        try:
            upstream = routing.resolve(path)
            if upstream is None:
                raise not_found("接口", "endpoint")
            if routing.is_public(path):
                client = scope.get("client")
                wait = self.per_address.take(client[0] if client else "-")
            else:
                headers = [v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"]
                principal = await self.verifier.authenticate(headers, scope.get("query_string", b""))
                wait = self.per_sub.take(principal.sub)
            if wait > 0:
                raise rate_limited(wait)
            limit = body_limit(path, self.settings.body_limit, self.settings.import_body_limit)
            await proxy.forward(
                self.upstream_pools,
                upstream,
                self.upstreams[upstream],
                scope,
                receive,
                send,
                request_id=request_id,
                body_limit=limit,
                metrics=self.metrics,
                deadline_seconds=self.settings.upstream_timeout,
            )
        except DomainError as exc:
            lang = problems.language(_header(scope, b"accept-language"))
            response = problems.domain_problem(exc, lang=lang, instance=path, request_id=request_id)
            await response(scope, receive, send)

    async def token(self, request: Request) -> Response:
        return await self.signin.token(request)

    async def revoke(self, request: Request) -> Response:
        try:
            principal = await self.verifier.authenticate(
                request.headers.getlist("authorization"), request.scope.get("query_string", b"")
            )
        except DomainError as exc:
            return self._problem(request, exc)
        return await self.signin.revoke(request, principal)

    async def healthz(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, _request: Request) -> Response:
        async def replica_ready(base: str) -> str:
            try:
                r = await self.client.get(f"{base}/readyz", timeout=3.0)
            except httpx.HTTPError:
                return "unreachable"
            return "ready" if r.status_code == 200 else "not ready"

        async def upstream_ready(name: str, pool: Replicas) -> str | None:
            """A service is ready when one of its replicas is: the others are passed over."""
            states = await asyncio.gather(*(replica_ready(b) for b in pool.bases))
            if "ready" in states:
                return None
            return f"{name}: {'not ready' if 'not ready' in states else 'unreachable'}"

        db_problems, upstreams = await asyncio.gather(
            database_problems(self.db.engine),
            asyncio.gather(*(upstream_ready(n, pool) for n, pool in self.upstreams.items())),
        )
        failing = [*db_problems, *(u for u in upstreams if u is not None)]
        body = {"status": "ready" if not failing else "not_ready", "problems": failing}
        return JSONResponse(body, status_code=200 if not failing else 503)

    async def jwks(self, _request: Request) -> Response:
        return JSONResponse(self.keys.jwks(), headers={"Cache-Control": "public, max-age=60"})

    async def metrics_text(self, request: Request) -> Response:
        """Prometheus metrics, not for everyone: with ``JIUZHU_METRICS_TOKEN`` set, only a request with
        that bearer token; without it, only a client on this machine (a local agent). Others get 404,
        as for a route that is not there."""
        expected = self.settings.metrics_token
        if expected is not None:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            allowed = hmac.compare_digest(given.encode(), expected.encode())
        else:
            allowed = request.client is not None and request.client.host in ("127.0.0.1", "::1", "localhost")
        if not allowed:
            return problems.render(request, not_found())
        registry = self.metrics.registry
        if multiprocess_dir := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Several workers: each writes its figures to that directory, and this sums them all.
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def openapi_json(self, request: Request) -> Response:
        if self._document is None:
            documents: dict[str, dict[str, Any]] = {}
            for name, pool in self.upstreams.items():
                for base in pool.order():
                    try:
                        r = await self.client.get(f"{base}/openapi.json", timeout=5.0)
                        r.raise_for_status()
                    except httpx.HTTPError:
                        continue
                    documents[name] = r.json()
                    break
                else:
                    err = DomainError("UPSTREAM_UNAVAILABLE", "后端服务不可用", f"{name} is unavailable", 503)
                    return self._problem(request, err)
            self._document = openapi.merge(documents, "Jiuzhu 救助 API", "0.1.0")
        return JSONResponse(self._document)

    async def not_found(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        err = problems.http_error(exc) if status != 404 else not_found("接口", "endpoint")  # type: ignore[arg-type]
        return self._problem(request, err)

    def _problem(self, request: Request, err: DomainError) -> Response:
        lang = problems.language(request.headers.get("accept-language"))
        return problems.domain_problem(
            err, lang=lang, instance=request.url.path, request_id=request.state.request_id
        )


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope["headers"]:
        if k == name:
            return str(v.decode("latin-1"))
    return None


EXPOSED = ["X-Request-ID", "ETag", "Location", "Retry-After", "Idempotent-Replayed"]
ALLOWED_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "X-Request-ID",
    "Accept-Language",
]


def create_app(
    settings: Settings | None = None,
    database_url: str | None = None,
    mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    clock: Clock | None = None,
) -> ASGIApp:
    settings = settings or get_settings()
    gateway = Gateway(settings, database_url, mounts, clock)
    cors = CORSMiddleware(
        gateway,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED,
        max_age=600,
    )
    app = RequestIdMiddleware(FrontDoor(cors, gateway.metrics, hsts_seconds=settings.hsts_seconds))
    app.gateway = gateway  # type: ignore[attr-defined]  # tests reach the lifespan through it
    return app
