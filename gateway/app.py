"""The gateway: verifies every token, then proxies to the service that owns the path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gateway import proxy, routing
from services.common import problems
from services.common.auth.keys import CachedPublicKeys, KeyStore
from services.common.auth.revocation import RevocationList
from services.common.auth.tokens import TokenVerifier
from services.common.database import Database, resolve_url
from services.common.errors import DomainError, not_found
from services.common.health import database_problems
from services.common.logs import configure_logging
from services.common.requestid import RequestIdMiddleware
from services.common.settings import Settings, get_settings

log = logging.getLogger("jiuzhu.gateway")


class Gateway:
    """Pure ASGI on the hot path (``/api/…``); a small Starlette app for the operational endpoints."""

    def __init__(
        self,
        settings: Settings,
        database_url: str | None = None,
        mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.settings = settings
        self.database_url = database_url
        self.mounts = dict(mounts or {})
        self.upstreams: dict[routing.Upstream, str] = {
            "staffing": settings.upstream_staffing.rstrip("/"),
            "contract": settings.upstream_contract.rstrip("/"),
            "penalty": settings.upstream_penalty.rstrip("/"),
        }
        self.keys = CachedPublicKeys(KeyStore(settings.keys_dir), settings.key_reload_interval)
        self.ops = Starlette(
            routes=[
                Route("/healthz", self.healthz),
                Route("/readyz", self.readyz),
                Route("/.well-known/jwks.json", self.jwks),
            ],
            lifespan=self.lifespan,
            exception_handlers={404: self.not_found, 405: self.not_found},
        )

    @asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        configure_logging("gateway")
        self.db = Database(self.database_url or resolve_url(self.settings), pool_size=2)
        self.verifier = TokenVerifier(self.settings, self.keys, RevocationList(self.db.engine).contains)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.upstream_timeout),
            limits=limits,
            mounts=self.mounts or None,
            follow_redirects=False,
        )
        try:
            yield
        finally:
            await self.client.aclose()
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
            if not routing.is_public(path):
                headers = [v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"]
                await self.verifier.authenticate(headers, scope.get("query_string", b""))
            await proxy.forward(self.client, self.upstreams[upstream], scope, receive, send, request_id)
        except DomainError as exc:
            lang = problems.language(_header(scope, b"accept-language"))
            response = problems.domain_problem(exc, lang=lang, instance=path, request_id=request_id)
            await response(scope, receive, send)

    async def healthz(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, _request: Request) -> Response:
        async def upstream_ready(name: str, base: str) -> str | None:
            try:
                r = await self.client.get(f"{base}/readyz", timeout=3.0)
            except httpx.HTTPError:
                return f"{name}: unreachable"
            return None if r.status_code == 200 else f"{name}: not ready"

        db_problems, upstreams = await asyncio.gather(
            database_problems(self.db.engine),
            asyncio.gather(*(upstream_ready(n, b) for n, b in self.upstreams.items())),
        )
        failing = [*db_problems, *(u for u in upstreams if u is not None)]
        body = {"status": "ready" if not failing else "not_ready", "problems": failing}
        return JSONResponse(body, status_code=200 if not failing else 503)

    async def jwks(self, _request: Request) -> Response:
        return JSONResponse(self.keys.jwks(), headers={"Cache-Control": "public, max-age=60"})

    async def not_found(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        err = problems.http_error(exc) if status != 404 else not_found("接口", "endpoint")  # type: ignore[arg-type]
        lang = problems.language(request.headers.get("accept-language"))
        return problems.domain_problem(
            err, lang=lang, instance=request.url.path, request_id=request.state.request_id
        )


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope["headers"]:
        if k == name:
            return str(v.decode("latin-1"))
    return None


def create_app(
    settings: Settings | None = None,
    database_url: str | None = None,
    mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> RequestIdMiddleware:
    gateway = Gateway(settings or get_settings(), database_url, mounts)
    app = RequestIdMiddleware(gateway)
    app.gateway = gateway  # type: ignore[attr-defined]  # tests reach the lifespan through it
    return app
