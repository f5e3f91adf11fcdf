"""contract_api's call to penalty_api's ``POST /api/v1/settlements``, with the caller's own token
(the county official's: penalty_api checks its scope as for any request)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import httpx
from fastapi import Request

from services.common.errors import DomainError
from services.common.settings import Settings


@dataclass(frozen=True)
class Settled:
    deductions_applied: Decimal
    credit_repaid: Decimal
    net_amount: Decimal


def client(request: Request) -> httpx.AsyncClient:
    """One client per process, made on first use (tests put an in-process one in its place)."""
    state = request.app.state
    if getattr(state, "penalty_client", None) is None:
        settings: Settings = state.settings
        state.penalty_client = httpx.AsyncClient(
            base_url=settings.upstream_penalty, timeout=settings.upstream_timeout
        )
    found: httpx.AsyncClient = state.penalty_client
    return found


def unavailable(payment_id: int) -> DomainError:
    return DomainError(
        "SETTLEMENT_UNAVAILABLE",
        f"支付 {payment_id} 已登记，扣减结算暂不可用；请稍后以相同期间重试",
        f"Payment {payment_id} is recorded; settlement is unavailable now: retry with the same period",
        status=503,
        headers={"Retry-After": "5"},
    )


async def settle(
    http: httpx.AsyncClient, *, authorization: str, request_id: str, payment_id: int, body: dict[str, object]
) -> Settled:
    try:
        r = await http.post(
            "/api/v1/settlements",
            json=body,
            headers={"Authorization": authorization, "X-Request-Id": request_id},
        )
    except httpx.HTTPError:
        raise unavailable(payment_id) from None
    if r.status_code >= 500:
        raise unavailable(payment_id)
    if r.status_code not in (200, 201):
        code = (
            r.json().get("code", "SETTLEMENT_REFUSED")
            if r.headers.get("content-type", "").endswith("json")
            else "SETTLEMENT_REFUSED"
        )
        raise DomainError(
            "SETTLEMENT_REFUSED",
            f"扣减结算被拒绝（{code}）",
            f"The settlement was refused ({code})",
            status=409,
        )
    out = r.json()
    return Settled(
        Decimal(out["deductions_applied"]), Decimal(out["credit_repaid"]), Decimal(out["net_amount"])
    )
