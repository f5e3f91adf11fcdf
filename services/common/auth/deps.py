"""Typed FastAPI dependencies: who is calling (``Principal``), which roles a route admits, region scope.

The role is checked first (403, whatever the object), region scope second (404: never reveal that
an object outside the caller's scope exists).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from services.common.auth.tokens import Principal, TokenVerifier
from services.common.errors import forbidden, not_found
from services.common.regions import in_scope, parse_code

READ_ROLES = frozenset(
    {
        "province_admin",
        "prefecture_official",
        "county_official",
        "county_government",
        "township_official",
        "finance_official",
        "auditor",
    }
)


async def authenticate(request: Request) -> Principal:
    """Verify the request's token once; later calls in the same request reuse the answer."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.authenticate(
        request.headers.getlist("authorization"), request.scope["query_string"]
    )
    request.state.principal = principal
    return principal


def require(*roles: str, scope: str | None = None) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting ``roles``, and ``service`` accounts when the token carries ``scope``."""
    allowed = frozenset(roles)

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request)
        if principal.role == "service" and scope is not None and scope in principal.scopes:
            return principal
        if principal.role not in allowed:
            raise forbidden()
        return principal

    return dependency


def ensure_in_scope(
    principal: Principal, region_code: str, what_zh: str = "资源", what_en: str = "resource"
) -> None:
    """404 for an object outside the caller's region (ancestors and siblings included)."""
    if not in_scope(principal.region, region_code):
        raise not_found(what_zh, what_en)


def scope_filter(column: InstrumentedAttribute[Any], principal: Principal) -> ColumnElement[bool]:
    """The one way a store query limits rows to the caller's region (prefix test on a "C" column)."""
    return column.startswith(principal.region, autoescape=True)


def listed_region(principal: Principal, raw: str | None) -> str:
    """The region a list is filtered to: the caller's whole scope when none is given; a region
    outside the scope (an ancestor or a sibling) → 404, like an object."""
    code = parse_code(raw, "region") if raw is not None else principal.region
    ensure_in_scope(principal, code)
    return code


NOBODY = -1  # the organisation a contractor token with a malformed org id owns: none


def listed_scope(principal: Principal, raw: str | None) -> tuple[str, int | None]:
    """What a list shows: (region prefix, owning organisation or None). Officials, auditors and
    service accounts: their region scope (``listed_region``: a filter outside it → 404). Contractors
    and workers are scoped by what they own instead, so a region only narrows their list (``""``:
    anywhere); a contractor's organisation comes back as the owner."""
    if principal.role not in ("contractor", "worker"):
        return listed_region(principal, raw), None
    code = parse_code(raw, "region") if raw is not None else ""
    if principal.role == "worker":
        return code, None
    found = own_org(principal)
    return code, NOBODY if found is None else found


def own_org(principal: Principal) -> int | None:
    """The organisation a contractor's token speaks for (None for other roles or a malformed id)."""
    if principal.role != "contractor" or principal.org_id is None or not principal.org_id.isdigit():
        return None
    return int(principal.org_id)


def ensure_visible(
    principal: Principal, region_code: str, owner_org: int, what_zh: str = "资源", what_en: str = "resource"
) -> None:
    """404 unless the caller may see the object: a contractor only its own organisation's, everyone
    else by region scope."""
    if principal.role == "contractor":
        if own_org(principal) != owner_org:
            raise not_found(what_zh, what_en)
    else:
        ensure_in_scope(principal, region_code, what_zh, what_en)
