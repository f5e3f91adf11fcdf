"""Public disclosure (contracts.md *Public disclosure*, notice §六(一)): no token, cacheable, and
never a worker's or recipient's name, ID number or phone number."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from fastapi import Request, Response

from services.common.app import router as make_router
from services.common.months import business_today
from services.common.transaction import Session
from services.contract_api.contractors import store
from services.contract_api.contractors.schemas import PublicDebarment, PublicDebarmentList

router = make_router(prefix="/api/v1/public", tags=["public"])
MAX_AGE = 60


def cached_json(request: Request, body: bytes) -> Response:
    """The answer with a strong ETag of its bytes; 304 when the caller already holds them."""
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": f"public, max-age={MAX_AGE}"}
    held = {t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")}
    if tag in held or "*" in held:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "/debarments",
    response_model=PublicDebarmentList,
    responses={304: {"description": "未变化 (not modified since the ETag held)"}},
    openapi_extra={"security": []},
)
async def public_debarments(session: Session, request: Request) -> Response:
    """禁止参与名单 (public list of contractors under a debarment in force today; no token)."""
    today = business_today(datetime.now(UTC))
    rows = await store.public_debarments(session, today)
    answer = PublicDebarmentList(
        items=[
            PublicDebarment(
                contractor_name=c.name,
                uscc=c.uscc,
                region_code=d.region_code,
                reason=d.reason,
                since=d.since,
                until=d.until,
            )
            for d, c in rows
        ]
    )
    return cached_json(request, answer.model_dump_json().encode())
