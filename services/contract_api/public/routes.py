"""Public disclosure (contracts.md *Public disclosure*, notice §六(一)): no token, cacheable, and
never a worker's or recipient's name, ID number or phone number."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query, Request, Response

from services.common.app import router as make_router
from services.common.errors import DomainError
from services.common.exports import exportable
from services.common.money import exact_json
from services.common.months import business_today
from services.common.pagination import Paging, decode_cursor, encode_cursor
from services.common.regions import parse_code
from services.common.settings import Settings
from services.common.transaction import Session
from services.contract_api.contractors import store
from services.contract_api.contractors.schemas import PublicDebarment, PublicDebarmentList
from services.contract_api.funds import store as funds
from services.contract_api.funds.routes import allocation_reads
from services.contract_api.funds.schemas import PublicAllocation, PublicAllocationList, PublicLine
from services.contract_api.public import ocds
from services.contract_api.public import store as disclosure
from services.contract_api.public.schemas import (
    PublicContract,
    PublicContractPage,
    ReleasePackage,
    posts_count,
)

router = make_router(prefix="/api/v1/public", tags=["public"])
MAX_AGE = 60
NOT_MODIFIED: dict[int | str, dict[str, str]] = {
    304: {"description": "未变化 (not modified since the ETag held)"}
}
Region = Annotated[str | None, Query(description="区划前缀 (purchaser county or above)")]
Year = Annotated[
    int | None,
    Query(ge=2000, le=2100, description="签订年度（未签订的按授予年度） (year signed, or awarded)"),
]


def cached_json(request: Request, body: bytes) -> Response:
    """The answer with a strong ETag of its bytes; 304 when the caller already holds them."""
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": f"public, max-age={MAX_AGE}"}
    held = {t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")}
    if tag in held or "*" in held:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _region(raw: str | None) -> str:
    return parse_code(raw, "region") if raw is not None else ""


@router.get(
    "/debarments",
    response_model=PublicDebarmentList,
    responses=NOT_MODIFIED,
    openapi_extra={"security": [], **exportable("public-debarments")},
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


@router.get(
    "/contracts",
    response_model=PublicContractPage,
    responses=NOT_MODIFIED,
    openapi_extra={"security": [], **exportable("public-contracts")},
)
async def public_contracts(
    session: Session, request: Request, paging: Paging, region: Region = None, year: Year = None
) -> Response:
    """合同公开 (purchaser, contractor name and USCC, method, winning score, amount, term, status, posts
    count; no token). By id, `limit`/`cursor` as every list."""
    after = decode_cursor(paging.cursor) if paging.cursor else None
    rows = await disclosure.disclosed(
        session, region=_region(region), year=year, after=after, limit=paging.limit + 1
    )
    more = len(rows) > paging.limit
    rows = rows[: paging.limit]
    page = PublicContractPage(
        items=[
            PublicContract(
                id=c.contract_id,
                purchaser_region=c.county_code,
                purchaser=f"{c.county_name}民政局",
                contractor_name=c.contractor_name,
                uscc=c.uscc,
                method=c.method,
                winning_score=c.winning_score,
                amount=c.amount,
                start_date=c.start_date,
                end_date=c.end_date,
                signed_on=c.signed_on,
                status=c.status,
                posts_count=posts_count(c.posts),
            )
            for c in rows
        ],
        next_cursor=encode_cursor(rows[-1].contract_id) if more else None,
    )
    return cached_json(request, page.model_dump_json().encode())


@router.get(
    "/ocds/releases",
    response_model=ReleasePackage,
    responses={**NOT_MODIFIED, 404: {"description": "没有符合条件的合同 (NO_RELEASES)"}},
    openapi_extra={"security": []},
)
async def public_ocds(
    session: Session, request: Request, region: Region = None, year: Year = None
) -> Response:
    """OCDS 1.1 发布包 (the public contracts as an Open Contracting release package; no token). No
    matching contract → 404 `NO_RELEASES` (a package holds at least one release)."""
    rows = await disclosure.disclosed(session, region=_region(region), year=year, after=None, limit=None)
    if not rows:
        raise DomainError(
            "NO_RELEASES", "没有符合条件的合同", "No contract matches: a package needs a release", status=404
        )
    settings: Settings = request.app.state.settings
    counts = await disclosure.tenderers(session, [c.procurement_id for c in rows if c.procurement_id])
    body = ocds.package(
        rows, prefix=settings.ocds_prefix, uri=str(request.url), publisher=settings.publisher,
        published=max(c.updated_at for c in rows), tenderers=counts,
    )  # fmt: skip
    return cached_json(request, exact_json(body))


@router.get(
    "/allocations",
    response_model=PublicAllocationList,
    responses=NOT_MODIFIED,
    openapi_extra={"security": [], **exportable("public-allocations")},
)
async def public_allocations(
    session: Session,
    request: Request,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="年度 (year)")] = None,
) -> Response:
    """资金分配公开 (published allocations: the province's and the prefectures' re-allocations, each
    unit's factor values, share and amount; no token)."""
    items = [
        PublicAllocation(
            id=full.id,
            year=full.year,
            region_code=full.region_code,
            parent_allocation_id=full.parent_allocation_id,
            total_amount=full.total_amount,
            own_funds=full.own_funds,
            weights=full.weights,
            published_at=full.published_at,
            lines=[PublicLine.model_validate(x.model_dump()) for x in full.lines],
        )
        for full in await allocation_reads(session, await funds.published(session, year))
    ]
    return cached_json(request, exact_json(PublicAllocationList(items=items).model_dump(mode="json")))
