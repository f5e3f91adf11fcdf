"""Every contract_api operation, read from its own API document: no token → 401 (public routes
excepted), a worker → 403 except on the few reads a worker has (its dispatch and payroll), an auditor
(read-only) → 403 on every write. A new route cannot ship without its guard."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conftest import Stack, Tokens

WORKER_READS = {("get", "/api/v1/dispatches"), ("get", "/api/v1/dispatches/{dispatch_id}"),
                ("get", "/api/v1/dispatches/{dispatch_id}/payroll")}  # fmt: skip
WRITES = ("post", "put", "patch", "delete")


async def _operations(stack: Stack) -> list[tuple[str, str, dict[str, Any]]]:
    doc = (await stack.direct["contract"].get("/openapi.json")).json()
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        if path.startswith("/api/")
        for method, op in item.items()
        if method in ("get", *WRITES)
    ]


def _concrete(path: str) -> str:
    path = path.replace("{month}", "2026-01")
    return re.sub(r"\{[^}]+\}", "1", path)


async def _call(client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]) -> int:
    body = {} if method in WRITES else None
    r = await client.request(method.upper(), _concrete(path), json=body, headers=headers)
    return r.status_code


@pytest.mark.parametrize("through", ["gateway", "direct"])
async def test_every_operation_is_guarded(stack: Stack, tokens: Tokens, through: str) -> None:
    client = stack.gateway if through == "gateway" else stack.direct["contract"]
    operations = await _operations(stack)
    assert len(operations) > 40
    worker = tokens.headers("worker", "530102001001", sub="1", org_id="1")
    auditor = tokens.headers("auditor", "53")
    wrong = []
    for method, path, op in operations:
        public = op.get("security") == []
        status = await _call(client, method, path, {})
        if (status == 401) == public:
            wrong.append(("no token", method, path, status))
        if public:
            continue
        status = await _call(client, method, path, worker)
        if (status == 403) == ((method, path) in WORKER_READS):
            wrong.append(("worker", method, path, status))
        if method in WRITES and (status := await _call(client, method, path, auditor)) != 403:
            wrong.append(("auditor", method, path, status))
    assert wrong == []
