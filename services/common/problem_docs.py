"""The one error shape in the API documents: every error status an operation can answer is declared
as ``application/problem+json`` with the ``Problem`` schema (RFC 9457 plus ``code``, ``request_id``
and, on 422, ``errors``), instead of FastAPI's built-in ``HTTPValidationError`` in
``application/json`` — which the services never send, so a generated client would mis-read every
rule violation."""

from __future__ import annotations

from typing import Any

from services.common.problems import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
BUILT_IN = ("HTTPValidationError", "ValidationError")
FIELD_ERROR: dict[str, Any] = {
    "type": "object",
    "description": "字段错误 (one invalid field or broken rule)",
    "required": ["field", "code", "message"],
    "properties": {
        "field": {"type": "string", "description": "字段 (field, dotted path)"},
        "code": {"type": "string", "description": "错误码 (stable machine code)"},
        "message": {"type": "string", "description": "说明 (message, Chinese or English)"},
        "row": {"type": "integer", "description": "行号 (spreadsheet row, on imports)"},
    },
}
PROBLEM: dict[str, Any] = {
    "type": "object",
    "description": "问题详情 (RFC 9457 problem details)",
    "required": ["type", "title", "status", "detail", "instance", "code"],
    "properties": {
        "type": {"type": "string", "description": "问题类型 URI (problem type)"},
        "title": {"type": "string", "description": "标题，同 code (title, the code)"},
        "status": {"type": "integer", "description": "HTTP 状态码 (status)"},
        "detail": {"type": "string", "description": "说明 (detail, Chinese or English)"},
        "instance": {"type": "string", "description": "请求路径 (the path asked for)"},
        "code": {"type": "string", "description": "错误码 (stable machine code, e.g. QUOTA_EXCEEDED)"},
        "request_id": {"type": ["string", "null"], "description": "请求编号 (request id, for support)"},
        "errors": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/ProblemFieldError"},
            "description": "字段错误 (422 only)",
        },
    },
}
DESCRIPTIONS = {
    "400": "请求无效 (malformed JSON or request)",
    "401": "缺少或无效的令牌 (no or invalid token)",
    "403": "角色无权 (role may not)",
    "404": "不存在或不在管辖范围内 (unknown or out of scope)",
    "409": "状态冲突 (state conflict)",
    "412": "版本不符 (If-Match mismatch)",
    "413": "请求体过大 (body too large)",
    "422": "字段或规则校验失败 (invalid field or rule violation)",
    "429": "请求过多 (rate limited; see Retry-After)",
    "500": "服务器内部错误 (internal error)",
    "502": "后端服务不可用 (upstream unavailable)",
    "503": "服务未就绪 (not ready)",
    "504": "后端服务超时 (upstream timeout)",
}
_METHODS = ("get", "put", "post", "delete", "patch")


def problem_response(status: str) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS.get(status, "错误 (error)"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }


def declare(doc: dict[str, Any], *, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Rewrite ``doc`` in place: each operation's error statuses (those declared, plus those every
    operation of its kind can answer, plus ``extra``) answer ``Problem``; the built-ins go."""
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in _METHODS or not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            # Any operation may find the database busy or slow (lock and statement timeouts, 503/504).
            statuses = {s for s in responses if s[0] in "45"} | {"500", "503", "504", *extra}
            if method != "get":
                # A write may name an object that is unknown or out of scope (404), and may meet a
                # state, or a concurrent write of the same record, that it conflicts with (409).
                statuses |= {"404", "409"}
            if op.get("security") != []:
                statuses |= {"401", "403"}
            if "{" in path:
                statuses.add("404")
            if op.get("parameters") or "requestBody" in op:
                statuses.add("422")
            if "requestBody" in op:  # an unreadable body: malformed JSON, a broken multipart upload
                statuses.add("400")
            for status in statuses:
                described = responses.get(status, {}).get("description")
                responses[status] = problem_response(status)
                if described and status in responses and not described.startswith("Validation Error"):
                    responses[status]["description"] = described
            op["responses"] = dict(sorted(responses.items()))
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in BUILT_IN:
        schemas.pop(name, None)
    schemas["Problem"] = PROBLEM
    schemas["ProblemFieldError"] = FIELD_ERROR
    return doc
