"""Staffing rule sets and the quota calculator (staffing.md, *Staffing rule sets*)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, ensure_in_scope, require
from services.common.auth.tokens import ROLES, Principal
from services.common.changes import record_change
from services.common.errors import conflict, invalid, invalid_field, not_found
from services.common.exports import exportable
from services.common.ids import PathId
from services.common.models import StaffingRuleSet
from services.common.months import business_today, format_month, parse_month
from services.common.pagination import Paging, decode_cursor, encode_cursor
from services.common.regions import level_of, parse_code
from services.common.transaction import Session
from services.staffing_api.quotas import rules, store
from services.staffing_api.quotas.schemas import (
    Coverage,
    LevelSummary,
    QuotaCompute,
    QuotaComputed,
    QuotaLevel,
    QuotaSummary,
    RuleSetCreate,
    RuleSetRead,
    SummaryPart,
    UnitQuota,
    UnitQuotaPage,
)
from services.staffing_api.regions import store as regions_store

router = make_router(prefix="/api/v1", tags=["quotas"])
Anyone = Annotated[Principal, Depends(require(*ROLES))]
Reader = Annotated[Principal, Depends(require(*READ_ROLES, scope="staffing:read"))]
ProvinceAdmin = Annotated[Principal, Depends(require("province_admin"))]
AsOf = Annotated[
    str | None, Query(description="统计月份 YYYY-MM (default: this month; counts on its last day)")
]


async def applicable_rule_set(session: AsyncSession, rule_set_id: int | None, on: date) -> StaffingRuleSet:
    """The rule set asked for, else the one in effect on the (business) day ``on``."""
    if rule_set_id is not None:
        found = await store.rule_set(session, rule_set_id)
        if found is None:
            zh, en = "规则集不存在", "No such rule set"
            raise invalid_field("rule_set_id", "RULE_SET_NOT_FOUND", zh, en)
        return found
    in_effect = await store.rule_set_in_effect(session, on)
    if in_effect is None:
        raise invalid(
            "NO_RULE_SET_IN_EFFECT", "该日期没有生效的配备标准", "No staffing rule set is in effect then"
        )
    return in_effect


@router.get(
    "/staffing-rule-sets", openapi_extra=exportable("staffing-rule-sets"), response_model=list[RuleSetRead]
)
async def list_rule_sets(_principal: Reader, session: Session) -> list[RuleSetRead]:
    """配备标准规则集 (staffing rule sets, oldest first; quotas use the one in effect at `as_of`)."""
    return [RuleSetRead.model_validate(r) for r in await store.rule_sets(session)]


@router.get("/staffing-rule-sets/{rule_set_id}", response_model=RuleSetRead)
async def read_rule_set(rule_set_id: PathId, _principal: Reader, session: Session) -> RuleSetRead:
    """读取规则集 (one rule set)."""
    found = await store.rule_set(session, rule_set_id)
    if found is None:
        raise not_found("规则集", "rule set")
    return RuleSetRead.model_validate(found)


@router.post("/staffing-rule-sets", status_code=201, response_model=RuleSetRead)
async def create_rule_set(
    body: RuleSetCreate, principal: ProvinceAdmin, session: Session, response: Response
) -> RuleSetRead:
    """新增规则集 (a new policy version; the province only). One rule set per effective date."""
    if await store.effective_date_taken(session, body.effective_from):
        raise conflict(
            "RULE_SET_EXISTS", "该生效日期已有规则集", "A rule set already takes effect on that date"
        )
    row = StaffingRuleSet(
        name=body.name,
        document=body.document,
        effective_from=body.effective_from,
        parameters=body.parameters.model_dump(mode="json"),
    )
    await store.add_rule_set(session, row)
    out = RuleSetRead.model_validate(row)
    record_change(
        session,
        principal,
        action="created",
        resource="staffing_rule_set",
        resource_id=str(row.id),
        region=principal.region,
        data=out.model_dump(mode="json"),
    )
    response.headers["Location"] = f"/api/v1/staffing-rule-sets/{row.id}"
    return out


@router.post("/quotas/compute", response_model=QuotaComputed)
async def compute_quota(body: QuotaCompute, _principal: Anyone, session: Session) -> QuotaComputed:
    """配备标准计算器 (pure calculator: the minimum and ceiling for a figure, any role).
    Counties and townships take 低保对象数, villages and communities 常住人口."""
    field = "population" if body.level == "village" else "dibao_recipients"
    figure = body.population if body.level == "village" else body.dibao_recipients
    if figure is None:
        zh, en = f"{body.level} 层级须提供 {field}", f"{field} is required at level {body.level}"
        raise invalid_field(field, "FIGURE_REQUIRED", zh, en)
    rule_set = await applicable_rule_set(session, body.rule_set_id, business_today(datetime.now(UTC)))
    q = rules.quota(body.level, figure, rules.RuleParameters.model_validate(rule_set.parameters))
    return QuotaComputed(required_min=q.required_min, allowed_max=q.allowed_max, rule_set_id=rule_set.id)


def _as_of(raw: str | None) -> tuple[date, date]:
    """The month asked for (default: this month in Yunnan) and its last day, when counts are taken."""
    first = parse_month(raw, "as_of") if raw else business_today(datetime.now(UTC)).replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first, last


def _unit(row: Any, month: date, rule_set_id: int) -> UnitQuota:
    village = row.level == "village"
    return UnitQuota(
        region_code=row.region_code,
        level=row.level,
        as_of=format_month(month),
        rule_set_id=rule_set_id,
        dibao_recipients=None if village else row.figure,
        population=row.figure if village else None,
        stats_missing=row.stats_missing,
        required_min=row.required_min,
        allowed_max=row.allowed_max,
        established=row.established,
        dispatched=row.dispatched,
        total=row.total,
        shortfall=row.shortfall,
        status=row.status,
    )


async def _rule_params(session: AsyncSession, day: date) -> tuple[int, rules.RuleParameters]:
    found = await applicable_rule_set(session, None, day)
    return found.id, rules.RuleParameters.model_validate(found.parameters)


@router.get("/quotas/{region_code:digits}", response_model=UnitQuota)
async def unit_quota(region_code: str, principal: Reader, session: Session, as_of: AsOf = None) -> UnitQuota:
    """单位配备情况 (a county's, township's or village's quota against its established and dispatched
    staff, as of the last day of `as_of`)."""
    code = parse_code(region_code, "region_code")
    ensure_in_scope(principal, code, "区划", "region")
    if level_of(code) not in ("county", "township", "village"):
        raise invalid(
            "QUOTA_LEVEL_NOT_ALLOWED",
            "配备标准只适用于县、乡镇和村（社区）；上级请用汇总",
            "Quotas apply to counties, townships and villages; use quota-summary above them",
        )
    month, day = _as_of(as_of)
    rule_set_id, params = await _rule_params(session, day)
    row = await store.unit_quota(session, params, day, month, code)
    if row is None:
        raise not_found("区划", "region")
    return _unit(row, month, rule_set_id)


@router.get("/quotas", openapi_extra=exportable("quotas"), response_model=UnitQuotaPage)
async def list_quotas(
    principal: Reader,
    session: Session,
    paging: Paging,
    region: Annotated[str | None, Query(description="区划前缀 (units below this region)")] = None,
    level: Annotated[QuotaLevel | None, Query(description="层级 (level)")] = None,
    status: Annotated[
        Literal["below_minimum", "within_quota", "above_maximum"] | None,
        Query(description="配备状态 (status)"),
    ] = None,
    as_of: AsOf = None,
) -> UnitQuotaPage:
    """配备情况列表 (every unit below `region`, by code)."""
    prefix = principal.region
    if region is not None:
        prefix = parse_code(region, "region")
        ensure_in_scope(principal, prefix)
    month, day = _as_of(as_of)
    rule_set_id, params = await _rule_params(session, day)
    after = decode_cursor(paging.cursor) if paging.cursor else None
    rows = await store.list_quotas(
        session,
        params,
        day,
        month,
        prefix=prefix,
        level=level,
        status=status,
        limit=paging.limit + 1,
        after=after,
    )
    cursor = encode_cursor(rows[paging.limit - 1].region_code) if len(rows) > paging.limit else None
    return UnitQuotaPage(
        items=[_unit(r, month, rule_set_id) for r in rows[: paging.limit]], next_cursor=cursor
    )


_CHILD_LENGTH = {2: 4, 4: 6, 6: 9, 9: 12, 12: None}


def _part(code: str, name: str, rows: list[Any]) -> SummaryPart:
    levels = {
        r.level: LevelSummary(
            units=r.units,
            below_minimum=r.below_minimum,
            within_quota=r.within_quota,
            above_maximum=r.above_maximum,
            shortfall=r.shortfall,
            stats_missing=r.stats_missing,
        )
        for r in rows
    }
    villages = next((r for r in rows if r.level == "village"), None)
    total = villages.units if villages else 0
    covered = villages.covered if villages else 0
    share = round(covered / total, 4) if total else 1.0
    return SummaryPart(
        region_code=code,
        name=name,
        levels=levels,
        village_coverage=Coverage(villages=total, covered=covered, share=share),
    )


@router.get(
    "/quota-summary/{region_code}",
    openapi_extra=exportable("quota-summary", rows="children"),
    response_model=QuotaSummary,
)
async def quota_summary(
    region_code: str, principal: Reader, session: Session, as_of: AsOf = None
) -> QuotaSummary:
    """配备汇总 (per level: units, below/within/above, total shortfall; village coverage — the notice's
    goal of an assistant in every village; and the same per child region). One query for the province."""
    code = parse_code(region_code, "region_code")
    ensure_in_scope(principal, code, "区划", "region")
    region = await regions_store.get(session, code)
    if region is None:
        raise not_found("区划", "region")
    month, day = _as_of(as_of)
    rule_set_id, params = await _rule_params(session, day)
    child_length = _CHILD_LENGTH[len(code)]
    rows = await store.summary(session, params, day, month, prefix=code, child_length=child_length)
    own = [r for r in rows if r.child is None]
    by_child: dict[str, list[Any]] = {}
    for r in rows:
        if r.child is not None:
            by_child.setdefault(r.child, []).append(r)
    names = await regions_store.names(session, list(by_child))
    whole = _part(code, region.name, own)
    return QuotaSummary(
        **whole.model_dump(),
        as_of=format_month(month),
        rule_set_id=rule_set_id,
        children=[_part(c, names.get(c, c), by_child[c]) for c in sorted(by_child) if c != code],
    )
