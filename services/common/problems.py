"""RFC 9457 problem+json rendering for every error, in Chinese by default, English on request."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.errors import DomainError, FieldError, conflict

log = logging.getLogger("jiuzhu.errors")
PROBLEM_JSON = "application/problem+json"


def language(accept_language: str | None) -> str:
    """'en' when the caller prefers English over Chinese, else 'zh'."""
    best, best_q = "zh", -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in ("en", "zh") and q > best_q:
            best, best_q = primary, q
    return best


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str,
    request_id: str | None,
    errors: list[dict[str, object]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:jiuzhu:problem:{code.lower().replace('_', '-')}",
        "title": code,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        "request_id": request_id,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def domain_problem(exc: DomainError, *, lang: str, instance: str, request_id: str | None) -> Response:
    return problem(
        exc.status,
        exc.code,
        exc.message_en if lang == "en" else exc.message_zh,
        instance=instance,
        request_id=request_id,
        errors=[e.render(lang) for e in exc.errors] if exc.status == 422 else None,
        headers=dict(exc.headers),
    )


def from_domain_error(request: Request, exc: DomainError) -> Response:
    lang = language(request.headers.get("accept-language"))
    return domain_problem(exc, lang=lang, instance=request.url.path, request_id=_request_id(request))


def validation_error(exc: RequestValidationError) -> DomainError:
    """FastAPI's 422 becomes 400 for unreadable JSON and a 422 with a field list otherwise."""
    raw = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        return DomainError(
            "MALFORMED_JSON", "请求体不是有效的 JSON", "The body is not valid JSON", status=400
        )
    fields = []
    for e in raw:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "header")]
        name = ".".join(loc) or "body"
        kind = str(e.get("type", "invalid")).upper()
        fields.append(FieldError(name, kind, f"字段 {name} 无效：{e.get('msg', '')}", str(e.get("msg", ""))))
    return DomainError("VALIDATION_FAILED", "请求字段校验失败", "Some fields are invalid", errors=fields)


_HTTP_CODES = {
    400: ("BAD_REQUEST", "请求无效", "Bad request"),
    404: ("NOT_FOUND", "资源不存在", "Not found"),
    405: ("METHOD_NOT_ALLOWED", "不支持该请求方法", "Method not allowed"),
    413: ("BODY_TOO_LARGE", "请求体过大", "Request body too large"),
}


def http_error(exc: StarletteHTTPException) -> DomainError:
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's answer to a body its JSON parser gave up on (nested beyond the recursion limit).
        return DomainError(
            "MALFORMED_JSON", "请求体不是有效的 JSON", "The body is not valid JSON", status=400
        )
    code, zh, en = _HTTP_CODES.get(exc.status_code, ("HTTP_ERROR", "请求失败", "Request failed"))
    return DomainError(code, zh, en, status=exc.status_code, headers=dict(exc.headers or {}))


def data_error(exc: DBAPIError | asyncpg.PostgresError) -> DomainError | None:
    """PostgreSQL's class 22 (data exception: a NUL character in text, a number out of range …) is
    the client's value, not our fault: a 422 that names no column, value or SQL. The error comes
    wrapped by SQLAlchemy, or straight from asyncpg for the statements the shared layer runs on the
    driver connection (``database.Statement``) and for ``COMMIT``."""
    orig = exc if isinstance(exc, asyncpg.PostgresError) else exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate == "55P03":  # lock_not_available: lock_timeout passed behind another transaction
        return DomainError(
            "DATABASE_BUSY", "数据正被其他操作锁定，请稍后重试", "The data is locked elsewhere; retry",
            status=503, headers={"Retry-After": "1"},
        )  # fmt: skip
    if sqlstate == "57014":  # query_canceled: statement_timeout
        return DomainError(
            "DATABASE_TIMEOUT", "数据库处理超时，请稍后重试", "The database took too long; retry later",
            status=504,
        )  # fmt: skip
    if sqlstate == "23505":
        # unique_violation a route's own check did not foresee: two requests creating the same record
        # at once both passed the check, and the database let one in. The other is a conflict, not
        # our failure; stores that know the constraint raise their own code (PERSON_EXISTS …).
        return conflict(
            "ALREADY_EXISTS", "同一记录已由另一请求写入", "Another request has just written the same record"
        )
    if isinstance(sqlstate, str) and sqlstate.startswith("22"):
        return DomainError(
            "INVALID_VALUE",
            "提交的值无法保存（含不支持的字符或超出范围）",
            "A value cannot be stored (an unsupported character, or out of range)",
        )
    return None


def to_domain_error(exc: Exception) -> DomainError | None:
    """Any exception a client may see described; None for the unexpected (a 500)."""
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, DBAPIError | asyncpg.PostgresError):
        return data_error(exc)
    if isinstance(exc, RequestValidationError):
        return validation_error(exc)
    if isinstance(exc, StarletteHTTPException):
        return http_error(exc)
    return None


def render(request: Request, exc: Exception) -> Response:
    err = to_domain_error(exc)
    if err is None:
        err = DomainError(
            "INTERNAL_ERROR",
            "服务器内部错误，请凭请求编号联系运维",
            "Internal error; quote the request id",
            status=500,
        )
    return from_domain_error(request, err)


def install(app: FastAPI) -> None:
    async def handler(request: Request, exc: Exception) -> Response:
        if to_domain_error(exc) is None:
            # Unexpected: RequestIdMiddleware logs it and answers 500 with the request id.
            raise exc
        return render(request, exc)

    for exc_type in (
        DomainError, RequestValidationError, StarletteHTTPException, DBAPIError, asyncpg.PostgresError,
    ):  # fmt: skip
        app.add_exception_handler(exc_type, handler)
