"""Each service documents itself: bearer scheme, every operation described, every field described."""

from __future__ import annotations

from typing import Any

from tests.conftest import Stack


def _properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        if name in ("HTTPValidationError", "ValidationError"):
            continue
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
