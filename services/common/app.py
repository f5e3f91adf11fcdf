"""The app factory shared by the three services: lifespan, errors, request ids, health, auth scheme."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.convertors import Convertor, register_url_convertor

from services.common import api_shapes, problem_docs, problems, retention, swagger
from services.common.auth.deps import authenticate
from services.common.auth.keys import CachedPublicKeys, KeyStore
from services.common.auth.revocation import RevocationList
from services.common.auth.tokens import TokenVerifier
from services.common.database import Database, resolve_url
from services.common.errors import DomainError, not_found
from services.common.health import database_problems
from services.common.logs import configure_logging
from services.common.pii import load_vault
from services.common.requestid import RequestIdMiddleware
from services.common.runtime import settle_heap
from services.common.settings import Settings, get_settings
from services.common.transaction import TransactionalRoute


class _Digits(Convertor[str]):
    """``{code:digits}``: a path segment of digits, kept a string (region codes). A route whose
    parameter is a code must not swallow its literal siblings: with it, ``GET /quotas/compute`` is
    the POST-only path it names (405), not a region called "compute" (422)."""

    regex = "[0-9]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("digits", _Digits())


def router(**kwargs: Any) -> APIRouter:
    """Every domain router: each endpoint runs in one transaction committed before the response."""
    return APIRouter(route_class=TransactionalRoute, **kwargs)


def create_service_app(
    *,
    name: str,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    settings: Settings | None = None,
    database_url: str | None = None,
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(name)
        db = Database(
            database_url or resolve_url(settings),
            pool_size=settings.db_pool_size,
            idle_in_transaction_timeout=settings.db_idle_in_transaction_timeout,
            role=settings.db_role,
            lock_timeout_ms=settings.db_lock_timeout_ms,
            statement_timeout_ms=settings.db_statement_timeout_ms,
        )
        keys = CachedPublicKeys(KeyStore(settings.keys_dir), settings.key_reload_interval)
        revoked = RevocationList(db.engine, settings.revocation_cache_seconds)
        app.state.db = db
        app.state.vault = load_vault(settings)
        app.state.verifier = TokenVerifier(settings, keys, revoked.contains)
        purging = asyncio.create_task(
            retention.run_forever(
                db.engine, service=name, keep_days=settings.idempotency_keep_days,
                interval=settings.retention_interval_seconds, clock=lambda: datetime.now(UTC),
            )
        )  # fmt: skip
        settle_heap()
        try:
            yield
        finally:
            purging.cancel()
            await db.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # No OpenTelemetry here: left on, FastAPI asks the global providers on every request whether
        # one was configured (a few per cent of a write's samples in py-spy). Metrics are Prometheus's.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.router.routes.extend(swagger.routes("/openapi.json", f"{title} API"))
    app.state.service_name = name
    app.state.settings = settings
    problems.install(app)
    app.add_middleware(RequestIdMiddleware)

    @app.get("/healthz", tags=["health"], summary="进程存活 (liveness)")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="就绪检查 (readiness: database, migrations)")
    async def readyz() -> JSONResponse:
        failing = await database_problems(app.state.db.engine)
        body = {"status": "ready" if not failing else "not_ready", "problems": failing}
        return JSONResponse(body, status_code=200 if not failing else 503)

    for r in routers:
        app.include_router(r)

    @app.api_route(
        "/api/v1/{rest:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        include_in_schema=False,
    )
    async def unknown(request: Request) -> None:
        """Unknown API paths answer 404 only to a verified caller: no route map for strangers. A known
        path asked with a method it does not have answers 405 with every method it does (RFC 9110
        §15.5.6), read from the API document: Starlette's own 405 would name one route's methods only,
        and this catch-all route shadows it anyway."""
        await authenticate(request)
        allowed = _methods_of(app.openapi(), request.url.path)
        if allowed and request.method not in allowed:
            raise DomainError(
                "METHOD_NOT_ALLOWED", "不支持该请求方法", "Method not allowed", status=405,
                headers={"Allow": ", ".join(allowed)},
            )  # fmt: skip
        raise not_found("接口", "endpoint")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=title, version=app.version, description=description, routes=app.routes)
            components = schema.setdefault("components", {})
            components.setdefault("securitySchemes", {})["bearer"] = {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "访问令牌 (ES256 JWT from the gateway's /auth/token or `jiuzhu token`)",
            }
            schema["security"] = [{"bearer": []}]
            app.openapi_schema = api_shapes.describe(problem_docs.declare(schema))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _methods_of(document: dict[str, Any], path: str) -> list[str]:
    """The methods the API document gives ``path``: a concrete path matched against its templates,
    the most literal ones winning (``/quotas/compute`` is that path, not ``/quotas/{region_code}``)."""
    verbs = ("GET", "POST", "PUT", "PATCH", "DELETE")
    matching = [
        (template, item)
        for template, item in document["paths"].items()
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path)
    ]
    if not matching:
        return []
    literal = max(template.count("/") - template.count("{") for template, _ in matching)
    return sorted(
        verb
        for template, item in matching
        if template.count("/") - template.count("{") == literal
        for verb in verbs
        if verb.lower() in item
    )
