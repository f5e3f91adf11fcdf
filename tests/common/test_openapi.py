"""Each service documents itself: bearer scheme, every operation described, every field described."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator

from tests.conftest import Stack, Tokens


def _properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        for prop, spec in component.get("properties", {}).items():
            out.append((f"{name}.{prop}", spec))
    return out


async def test_service_documents(stack: Stack) -> None:
    for name, client in stack.direct.items():
        schema = (await client.get("/openapi.json")).json()
        assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer", name
        assert schema["info"]["description"], name
        for path, ops in schema["paths"].items():
            for method, op in ops.items():
                assert op.get("summary") and (op.get("description") or path in ("/healthz", "/readyz")), (
                    name,
                    method,
                    path,
                )
        undocumented = [p for p, spec in _properties(schema) if not spec.get("description")]
        assert undocumented == [], (name, undocumented)


def _error_responses(doc: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [
        (path, method, status, response)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        for status, response in op.get("responses", {}).items()
        if status[0] in "45"
    ]


async def test_every_error_is_declared_as_the_one_problem_shape(stack: Stack, tokens: Tokens) -> None:
    """The documents declare what the services send: application/problem+json with `Problem` (and its
    `errors[]` on 422) for every error status, no FastAPI built-ins; and a real 422 fits it."""
    merged = (await stack.gateway.get("/openapi.json")).json()
    for name, client in [*stack.direct.items(), ("merged", stack.gateway)]:
        doc = merged if name == "merged" else (await client.get("/openapi.json")).json()
        text = json.dumps(doc)
        assert "HTTPValidationError" not in text and '"ValidationError"' not in text, name
        # Only the API's own errors: OAuth (/auth/*) and readiness (/readyz) answer their own shapes.
        errors = [e for e in _error_responses(doc) if e[0].startswith("/api/")]
        assert errors or not any(p.startswith("/api/") for p in doc["paths"]), name  # penalty: no routes yet
        for path, method, status, response in errors:
            assert response["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (name, path, method, status)
    ops = merged["paths"]["/api/v1/dispatches"]["post"]["responses"]
    assert {"400", "401", "403", "413", "422", "429", "500", "502", "504"} <= set(ops)
    public = merged["paths"]["/api/v1/public/contracts"]["get"]["responses"]
    assert "401" not in public and "403" not in public and "429" in public
    r = await stack.gateway.post(
        "/api/v1/dispatches",
        json={"contract_id": "x"},
        headers=tokens.headers("contractor", "530102", org_id="1"),
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    schema = {**merged["components"]["schemas"]["Problem"], "components": merged["components"]}
    validator = Draft202012Validator(schema)
    assert list(validator.iter_errors(r.json())) == []
    assert r.json()["errors"] and {"field", "code", "message"} <= set(r.json()["errors"][0])
