"""A schemathesis check of our own, loaded by fuzz/schemathesis.toml (``hooks``).

Schemathesis' ``positive_data_acceptance`` must admit 422 here, because a well-formed request can
break a rule of the notice (a unit not eligible for an allocation, a contract not active). What it
must never meet is a schema-valid request that fails *validation* — that would mean the API
document promises more than the API accepts. Validation failures carry their own problem codes,
so this check tells the two apart.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis import Case, Response
from schemathesis.core.failures import Failure

# The problem codes of request-shape validation (services/common/problems.py and the parsers of
# region codes and months): a schema that describes the API exactly leaves none of these to a
# request generated from it.
SHAPE_CODES = frozenset(
    {"VALIDATION_FAILED", "MALFORMED_JSON", "INVALID_VALUE", "INVALID_REGION_CODE", "INVALID_MONTH"}
)


class ValidRequestFailedValidation(Failure):
    def __init__(self, *, operation: str, code: str, detail: str) -> None:
        super().__init__(
            operation=operation,
            title="Schema-valid request failed validation",
            message=f"The API document admits this request, but the API refused its shape: {code}\n{detail}",
        )


@schemathesis.check
def schema_valid_passes_validation(_ctx: Any, response: Response, case: Case) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code not in (400, 422):
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    # VALUE_ERROR is a validator of our own stating a rule JSON Schema cannot (exactly one of two
    # fields, tiers in ascending order): a rule refusal like any other 422, not a loose document.
    rules_only = code == "VALIDATION_FAILED" and all(
        e.get("code") == "VALUE_ERROR" for e in body.get("errors") or [{}]
    )
    if code in SHAPE_CODES and not rules_only:
        raise ValidRequestFailedValidation(
            operation=case.operation.label,
            code=str(code),
            detail=json.dumps(body.get("errors"), ensure_ascii=False),
        )
    return None
