"""Regions, monthly statistics, bulk import and establishment (staffing.md, *Regions*)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, File, Header, Query, Response, UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, ensure_in_scope, listed_region, require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.concurrency import check_if_match, etag
from services.common.errors import FieldError, conflict, forbidden, invalid, invalid_field, not_found
from services.common.exports import exportable
from services.common.models import Establishment, Region, RegionStats
from services.common.months import format_month, parse_month
from services.common.pagination import Page, Paging
from services.common.regions import DIRECTLY_ADMINISTERED, Level, level_of, parent_of, parse_code
from services.common.transaction import Session, single_write
from services.staffing_api.regions import importing, rules, store
from services.staffing_api.regions.schemas import (
    EstablishmentRead,
    EstablishmentWrite,
    ImportResult,
    RegionCreate,
    RegionRead,
    StatsList,
    StatsRead,
    StatsRow,
    StatsWrite,
)

router = make_router(prefix="/api/v1", tags=["regions"])

Reader = Annotated[Principal, Depends(require(*READ_ROLES, "contractor", "worker", scope="staffing:read"))]
RegionWriter = Annotated[Principal, Depends(require("province_admin", "county_official"))]
StatsReader = Annotated[Principal, Depends(require(*READ_ROLES, scope="staffing:read"))]
StatsLevel = Literal["county", "township", "village"]
LEVEL_LENGTH = {"county": 6, "township": 9, "village": 12}
StatsWriter = Annotated[Principal, Depends(require("province_admin", "county_official", "township_official"))]
EstablishmentWriter = Annotated[Principal, Depends(require("province_admin", "county_official"))]

PROBLEMS: dict[int | str, dict[str, str]] = {
    401: {"description": "缺少或无效的令牌 (no or invalid token)"},
    403: {"description": "角色无权 (role may not)"},
    404: {"description": "不存在或不在管辖范围内 (unknown or out of scope)"},
    422: {"description": "字段或规则校验失败 (invalid field or rule violation)"},
}


async def _region_in_scope(session: AsyncSession, principal: Principal, raw_code: str) -> Region:
    code = parse_code(raw_code)
    ensure_in_scope(principal, code, "区划", "region")
    region = await store.get(session, code)
    if region is None:
        raise not_found("区划", "region")
    return region


def _stats_read(s: RegionStats) -> StatsRead:
    return StatsRead(
        region_code=s.region_code,
        month=format_month(s.month),
        dibao_recipients=s.dibao_recipients,
        tekun_recipients=s.tekun_recipients,
        population=s.population,
        demo=s.demo,
        version=s.version,
        updated_at=s.updated_at,
    )


@router.post(
    "/regions",
    status_code=201,
    response_model=RegionRead,
    responses={**PROBLEMS, 409: {"description": "重复"}},
)
async def create_region(
    body: RegionCreate, principal: RegionWriter, session: Session, response: Response
) -> RegionRead:
    """新增区划 (create a region). The province admin anywhere; a county official townships and
    villages inside its own county. The parent (code minus its last group) must exist."""
    code = parse_code(body.code)
    level: Level = level_of(code)
    if principal.role == "county_official" and level not in ("township", "village"):
        raise forbidden(
            "县级民政部门只能新增本县的乡镇和村（社区）", "A county official adds townships and villages only"
        )
    ensure_in_scope(principal, code, "区划", "region")
    kind = body.kind or rules.default_kind(code, level)
    rules.check_kind(level, kind)
    out = RegionRead(
        code=code,
        name=body.name.strip(),
        level=level,
        kind=kind,
        parent_code=parent_of(code),
        directly_administered=code in DIRECTLY_ADMINISTERED,
    )
    await single_write(session)  # the insert writes its audit row and event too
    record_change(
        session, principal, action="created", resource="region", resource_id=code, region=code,
        data=out.model_dump(mode="json"),
    )  # fmt: skip
    if not await store.create(session, out.model_dump()):
        if await store.exists(session, code):
            raise conflict("REGION_EXISTS", "该区划代码已存在", "A region with this code already exists")
        zh, en = "上级区划不存在", "The parent region does not exist"
        raise invalid_field("code", "PARENT_NOT_FOUND", zh, en)
    response.headers["Location"] = f"/api/v1/regions/{code}"
    return out


@router.get("/regions/{code}", response_model=RegionRead, responses=PROBLEMS)
async def read_region(code: str, principal: Reader, session: Session) -> RegionRead:
    """读取区划 (read one region in the caller's scope)."""
    return RegionRead.model_validate(await _region_in_scope(session, principal, code))


@router.get(
    "/regions", openapi_extra=exportable("regions"), response_model=Page[RegionRead], responses=PROBLEMS
)
async def list_regions(
    principal: Reader,
    session: Session,
    paging: Paging,
    region: Annotated[str | None, Query(description="区划前缀 (only this region and below)")] = None,
    parent: Annotated[str | None, Query(description="上级区划代码 (direct children of)")] = None,
    level: Annotated[Level | None, Query(description="层级 (level)")] = None,
    q: Annotated[str | None, Query(max_length=50, description="名称包含 (name contains)")] = None,
) -> Page[RegionRead]:
    """区划列表 (regions in the caller's scope, ordered by code)."""
    region_code = parent_code = None
    if region is not None:
        region_code = parse_code(region, "region")
        ensure_in_scope(principal, region_code, "区划", "region")
    if parent is not None:
        parent_code = parse_code(parent, "parent")
        ensure_in_scope(principal, parent_code, "区划", "region")
    rows, cursor = await store.list_regions(
        session, principal, paging, region=region_code, parent=parent_code, level=level, q=q
    )
    return Page[RegionRead](items=[RegionRead.model_validate(r) for r in rows], next_cursor=cursor)


@router.put(
    "/regions/{code}/stats/{month}",
    response_model=StatsRead,
    responses={**PROBLEMS, 412: {"description": "版本不符"}},
)
async def put_stats(
    code: str,
    month: str,
    body: StatsWrite,
    principal: StatsWriter,
    session: Session,
    response: Response,
    if_match: Annotated[str | None, Header(description="乐观锁 (ETag of the version replaced)")] = None,
) -> StatsRead:
    """填报月度统计 (record a unit's figures for a month; a later PUT of the month replaces it).
    Counties, townships and villages only: a prefecture's or the province's figures are sums."""
    region = await _region_in_scope(session, principal, code)
    first_day = parse_month(month)
    rules.check_stats_level(region.level)  # type: ignore[arg-type]
    rules.check_some_figure(body.dibao_recipients, body.tekun_recipients, body.population)
    current = await store.get_stats(session, region.code, first_day)
    check_if_match(if_match, current.version if current else None)
    await store.upsert_stats(session, [{"region_code": region.code, "month": first_day, **body.model_dump()}])
    saved = await store.get_stats(session, region.code, first_day)
    assert saved is not None  # noqa: S101 - just upserted in this transaction
    out = _stats_read(saved)
    record_change(
        session,
        principal,
        action="recorded",
        resource="region_stats",
        resource_id=f"{region.code}/{out.month}",
        region=region.code,
        data=out.model_dump(mode="json"),
    )
    response.headers["ETag"] = etag(saved.version)
    return out


@router.get(
    "/regions/{code}/stats",
    openapi_extra=exportable("region-months"),
    response_model=StatsList,
    responses=PROBLEMS,
)
async def list_stats(
    code: str,
    principal: Reader,
    session: Session,
    from_: Annotated[str | None, Query(alias="from", description="起始月份 (from month, YYYY-MM)")] = None,
    to: Annotated[str | None, Query(description="截止月份 (to month, YYYY-MM)")] = None,
) -> StatsList:
    """月度统计列表 (a unit's months, oldest first)."""
    region = await _region_in_scope(session, principal, code)
    start = parse_month(from_, "from") if from_ else None
    end = parse_month(to, "to") if to else None
    return StatsList(items=[_stats_read(s) for s in await store.list_stats(session, region.code, start, end)])


@router.get("/regions/{code}/stats/{month}", response_model=StatsRead, responses=PROBLEMS)
async def read_stats(
    code: str, month: str, principal: Reader, session: Session, response: Response
) -> StatsRead:
    """读取某月统计 (one month's figures; 404 if none were recorded)."""
    region = await _region_in_scope(session, principal, code)
    stats = await store.get_stats(session, region.code, parse_month(month))
    if stats is None:
        raise not_found("该月统计", "month's figures")
    response.headers["ETag"] = etag(stats.version)
    return _stats_read(stats)


@router.get(
    "/region-stats",
    openapi_extra=exportable("region-stats"),
    response_model=Page[StatsRow],
    responses=PROBLEMS,
)
async def month_of_units(
    principal: StatsReader,
    session: Session,
    paging: Paging,
    level: Annotated[StatsLevel, Query(description="层级 (county, township or village)")],
    month: Annotated[str, Query(description="统计月份 (month, YYYY-MM)")],
    region: Annotated[str | None, Query(description="区划 (region; default: your whole scope)")] = None,
) -> Page[StatsRow]:
    """某月各单位统计 (one month's figures of every unit at `level` below `region`, by code; units
    without figures that month are absent). Its CSV or XLSX export is exactly what
    `POST /region-stats/import` takes back."""
    code = listed_region(principal, region)
    rows, cursor = await store.month_of_units(
        session, paging, region=code, length=LEVEL_LENGTH[level], month=parse_month(month)
    )
    items = [
        StatsRow(
            region_code=r.region_code,
            month=format_month(r.month),
            dibao_recipients=r.dibao_recipients,
            tekun_recipients=r.tekun_recipients,
            population=r.population,
        )
        for r in rows
    ]
    return Page[StatsRow](items=items, next_cursor=cursor)


@router.post("/region-stats/import", response_model=ImportResult, responses=PROBLEMS)
async def import_stats(
    file: Annotated[UploadFile, File(description="统计文件 (CSV, UTF-8 with or without BOM, or XLSX)")],
    principal: StatsWriter,
    session: Session,
) -> ImportResult:
    """批量导入统计 (CSV or XLSX with columns region_code, month, dibao_recipients,
    tekun_recipients, population). All rows or none: a 422 lists every bad row."""
    rows = importing.parse_rows(importing.read_table(file.filename or "", await file.read()), "53")
    known = await store.levels(session, (r.region_code for r in rows), principal)
    errors = []
    for r in rows:
        level = known.get(r.region_code)
        if level is None:
            errors.append(
                FieldError(
                    "region_code",
                    "REGION_NOT_FOUND",
                    "区划不存在或不在管辖范围内",
                    "unknown region or outside your scope",
                    row=r.row,
                )
            )
        elif level not in rules.STATS_LEVELS:
            errors.append(
                FieldError(
                    "region_code",
                    "STATS_LEVEL_NOT_ALLOWED",
                    "该层级不能填报统计数",
                    "figures are not kept at this level",
                    row=r.row,
                )
            )
    if errors:
        raise invalid(
            "IMPORT_ROWS_INVALID",
            "导入文件有错误行，未导入任何数据",
            "Some rows are invalid; nothing was imported",
            errors,
        )
    await store.upsert_stats(
        session,
        [
            {
                "region_code": r.region_code,
                "month": r.month,
                "dibao_recipients": r.dibao_recipients,
                "tekun_recipients": r.tekun_recipients,
                "population": r.population,
            }
            for r in rows
        ],
    )
    for r in rows:
        record_change(
            session,
            principal,
            action="recorded",
            resource="region_stats",
            resource_id=f"{r.region_code}/{format_month(r.month)}",
            region=r.region_code,
            data={
                "dibao_recipients": r.dibao_recipients,
                "tekun_recipients": r.tekun_recipients,
                "population": r.population,
                "month": format_month(r.month),
                "imported": True,
            },
        )
    return ImportResult(imported=len(rows))


def _establishment_read(e: Establishment) -> EstablishmentRead:
    return EstablishmentRead(
        region_code=e.region_code,
        authorized_posts=e.authorized_posts,
        version=e.version,
        updated_at=e.updated_at,
    )


@router.put(
    "/regions/{code}/establishment",
    response_model=EstablishmentRead,
    responses={**PROBLEMS, 412: {"description": "版本不符"}},
)
async def put_establishment(
    code: str,
    body: EstablishmentWrite,
    principal: EstablishmentWriter,
    session: Session,
    response: Response,
    if_match: Annotated[str | None, Header(description="乐观锁 (ETag of the version replaced)")] = None,
) -> EstablishmentRead:
    """核定编制 (authorized posts of a county's social-assistance section or a township office)."""
    region = await _region_in_scope(session, principal, code)
    rules.check_establishment_level(region.level)  # type: ignore[arg-type]
    current = await store.get_establishment(session, region.code)
    check_if_match(if_match, current.version if current else None)
    await store.upsert_establishment(session, region.code, body.authorized_posts)
    saved = await store.get_establishment(session, region.code)
    assert saved is not None  # noqa: S101 - just upserted in this transaction
    out = _establishment_read(saved)
    record_change(
        session,
        principal,
        action="recorded",
        resource="establishment",
        resource_id=region.code,
        region=region.code,
        data=out.model_dump(mode="json"),
    )
    response.headers["ETag"] = etag(saved.version)
    return out


@router.get("/regions/{code}/establishment", response_model=EstablishmentRead, responses=PROBLEMS)
async def read_establishment(
    code: str, principal: Reader, session: Session, response: Response
) -> EstablishmentRead:
    """读取编制 (authorized posts; 404 if none recorded)."""
    region = await _region_in_scope(session, principal, code)
    saved = await store.get_establishment(session, region.code)
    if saved is None:
        raise not_found("编制", "establishment")
    response.headers["ETag"] = etag(saved.version)
    return _establishment_read(saved)
