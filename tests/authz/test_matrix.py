"""The authorization matrix: every operation of the merged API document × every role × a caller
inside and one outside the object's scope, against the answer ``permissions.py`` gives — through the
gateway, and straight to the service that owns the route (each service verifies again).

Inside callers sit where the world's objects are (五华区 530102, its township 530102001, its
prefecture 5301, the contractor that holds the contract, the dispatched worker); outside callers are
the nearest strangers: the sibling county 530103, the sibling township 530102002, another prefecture
5303, a registered contractor that owns nothing here, another worker of the same village.

A read admitted inside must answer 2xx; a write admitted inside must get past its guard (not 401,
403 or 404 — it may still be refused by its state, 409, or its rules, 422: the domain tests cover
those). Everything else must be exactly what the table says.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway import routing
from tests.authz.permissions import GATEWAY, LIST, NONE, PERMISSIONS, Rule
from tests.authz.requests import FILES, JSON, QUERY
from tests.authz.world import COUNTY, TOWNSHIP, VILLAGE, Objects, build
from tests.conftest import Stack, Tokens

ROLES = ("province_admin", "prefecture_official", "county_official", "county_government",
         "township_official", "finance_official", "auditor", "contractor", "worker", "service")  # fmt: skip
SCOPES = "staffing:read contracts:read penalties:read events:read"
PROVINCE_WIDE = ("province_admin",)  # no region is outside the province
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Caller:
    role: str
    side: str  # "in" or "out"
    region: str
    claims: dict[str, str]


def callers(o: Objects) -> list[Caller]:
    inside = {
        "province_admin": "53", "prefecture_official": "5301", "county_official": COUNTY,
        "county_government": COUNTY, "township_official": TOWNSHIP, "finance_official": "5301",
        "auditor": "53", "contractor": COUNTY, "worker": VILLAGE, "service": "53",
    }  # fmt: skip
    outside = {
        "prefecture_official": "5303", "county_official": "530103", "county_government": "530103",
        "township_official": "530102002", "finance_official": "5303", "auditor": "5303",
        "contractor": COUNTY, "worker": VILLAGE, "service": "5303",
    }  # fmt: skip

    def claims(role: str, side: str) -> dict[str, str]:
        if role == "contractor":
            return {"org_id": str(o.contractor if side == "in" else o.other_contractor)}
        if role == "worker":
            return {"sub": str(o.worker if side == "in" else o.other_worker), "org_id": str(o.contractor)}
        return {"scope": SCOPES} if role == "service" else {}

    return [Caller(r, "in", inside[r], claims(r, "in")) for r in ROLES] + [
        Caller(r, "out", outside[r], claims(r, "out")) for r in ROLES if r in outside
    ]


def operations(doc: dict[str, Any]) -> list[str]:
    return [
        f"{method.upper()} {path}"
        for path, item in doc["paths"].items()
        for method in item
        if method in METHODS
    ]


def admitted(rule: Rule, role: str) -> bool:
    return role in rule.roles or (role == "service" and rule.scope is not None)


def _ids(body: Any, key: str) -> set[str]:
    items = body.get("items", body.get("results")) if isinstance(body, dict) else body
    if not isinstance(items, list):
        return set()
    return {str(item.get(key)) for item in items if isinstance(item, dict)}


def verdict(op: str, rule: Rule, who: Caller, o: Objects, r: httpx.Response) -> str | None:
    """None when the answer is the table's, else what was wrong."""
    status = r.status_code
    code = r.json().get("code") if "problem+json" in r.headers.get("content-type", "") else None
    if status >= 500:
        return f"server error {status}"
    if not admitted(rule, who.role):
        return None if (status, code) == (403, "FORBIDDEN") else f"expected 403, got {status} {code}"
    hidden = who.role in rule.beneath or (
        who.side == "out"
        and rule.found not in (NONE, LIST)
        and who.role not in rule.anywhere
        and who.role not in rule.outside
    )
    if hidden:
        return None if (status, code) == (404, "NOT_FOUND") else f"expected 404, got {status} {code}"
    if who.side == "out" and who.role in rule.outside:
        want_status, want = rule.outside[who.role]
        if status != want_status:
            return f"expected {want_status} {want}, got {status} {code}"
        if status == 200:  # a batch: every item refused
            results = r.json()["results"]
            return None if all(x["status"] == want for x in results) else f"items not {want}: {results}"
        return None if code == want else f"expected {want}, got {code}"
    if op.startswith("GET "):
        if not 200 <= status < 300:
            return f"expected 2xx, got {status} {code}"
        if who.side == "out" and rule.found == LIST and who.role not in rule.anywhere:
            return _leak(rule, who, o, r)
        return None
    return None if status not in (401, 403, 404) else f"guard refused an admitted caller: {status} {code}"


def _leak(rule: Rule, who: Caller, o: Objects, r: httpx.Response) -> str | None:
    if rule.hides is not None:
        key = "code" if rule.hides == "code" else "id"
        if o.params[rule.hides] in _ids(r.json(), key):
            return f"outside caller sees {rule.hides} {o.params[rule.hides]}"
    if who.role not in ("contractor", "worker") and TOWNSHIP in r.text:
        return f"outside caller's answer mentions {TOWNSHIP}"
    return None


async def _send(client: httpx.AsyncClient, op: str, o: Objects, headers: dict[str, str]) -> httpx.Response:
    method, path = op.split(" ", 1)
    url = re.sub(r"\{([^}]+)\}", lambda m: o.params[m.group(1)], path)
    key = (method, path)
    params = QUERY[key](o) if key in QUERY else None
    if key in FILES:
        files = {"file": ("stats.csv", FILES[key](o), "text/csv")}
        return await client.request(method, url, files=files, headers=headers)
    body = JSON[key](o) if key in JSON else None
    return await client.request(method, url, json=body, params=params, headers=headers)


async def test_every_operation_of_the_api_document_is_in_the_table(stack: Stack) -> None:
    doc = (await stack.gateway.get("/openapi.json")).json()
    ops = set(operations(doc))
    assert len(ops) > 120
    assert ops - PERMISSIONS.keys() - GATEWAY.keys() == set(), "an operation without a permission rule"
    assert (PERMISSIONS.keys() | GATEWAY.keys()) - ops == set(), "a rule for an operation that is gone"
    for op in PERMISSIONS:
        method, path = op.split(" ", 1)
        if method != "GET" and (method, path) not in JSON and (method, path) not in FILES:
            body = doc["paths"][path][method.lower()].get("requestBody")
            assert body is None, f"{op} needs a well-formed body in requests.py"


@pytest.mark.parametrize("through", ["gateway", "direct"])
async def test_every_role_in_and_out_of_scope(
    stack: Stack, tokens: Tokens, engine: AsyncEngine, through: str
) -> None:
    o = await build(stack.gateway, tokens, engine)
    wrong: list[tuple[str, str, str, str]] = []
    for op, rule in PERMISSIONS.items():
        path = op.split(" ", 1)[1]
        client = stack.gateway if through == "gateway" else stack.direct[str(routing.resolve(path))]
        anonymous = await _send(client, op, o, {})
        public = routing.is_public(path)
        if (anonymous.status_code == 401) == public or anonymous.status_code >= 500:
            wrong.append((op, "no token", "-", f"got {anonymous.status_code}"))
        # One operation's callers at once: their answers must not depend on each other's order.
        everyone = callers(o)
        answers = await asyncio.gather(
            *(_send(client, op, o, tokens.headers(w.role, w.region, **w.claims)) for w in everyone)
        )
        for who, r in zip(everyone, answers, strict=True):
            if (problem := verdict(op, rule, who, o, r)) is not None:
                wrong.append((op, who.role, who.side, problem))
    assert wrong == [], json.dumps(wrong, ensure_ascii=False, indent=1)
