"""Indicator systems, evaluations of contracts and satisfaction surveys (contracts.md *Performance
evaluation*, notice §七 and §一 困难群众满意度)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Annotated

from fastapi import Depends, Query

from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, ensure_in_scope, listed_scope, require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.errors import conflict, invalid, invalid_field, not_found
from services.common.exports import exportable
from services.common.ids import MAX_ID, PathId
from services.common.models import Evaluation, IndicatorSystem, SatisfactionSurvey
from services.common.months import Day, business_today
from services.common.pagination import Page, Paging
from services.common.regions import parse_code
from services.common.transaction import Session
from services.contract_api.contracts.routes import visible_contract
from services.contract_api.evaluations import rules, store
from services.contract_api.evaluations.schemas import (
    EvaluationCreate,
    EvaluationRead,
    IndicatorScore,
    IndicatorSystemCreate,
    IndicatorSystemRead,
    SatisfactionRate,
    SurveyCreate,
    SurveyRead,
)

router = make_router(prefix="/api/v1", tags=["evaluation"])
Province = Annotated[Principal, Depends(require("province_admin"))]
Evaluator = Annotated[Principal, Depends(require("province_admin", "county_official"))]
Surveyor = Annotated[
    Principal,
    Depends(require("province_admin", "prefecture_official", "county_official", "township_official")),
]
Reader = Annotated[Principal, Depends(require(*READ_ROLES, "contractor", scope="contracts:read"))]
OfficialReader = Annotated[Principal, Depends(require(*READ_ROLES, scope="contracts:read"))]
EVALUABLE = ("active", "suspended", "completed", "terminated")
PROBLEMS: dict[int | str, dict[str, str]] = {
    403: {"description": "角色无权 (role may not)"},
    404: {"description": "不存在或不在管辖范围内 (unknown or out of scope)"},
    409: {"description": "该合同该期间已评价 (EVALUATION_EXISTS)"},
    422: {"description": "校验失败 (WEIGHTS_INVALID, MANUAL_SCORES_INVALID, METRIC_NO_DATA, …)"},
}


def _indicators(system: IndicatorSystem) -> list[rules.Indicator]:
    return [
        rules.Indicator(i["code"], Decimal(i["weight"]), i["source"], i.get("metric"))
        for i in system.indicators
    ]


def _evaluation_read(e: Evaluation) -> EvaluationRead:
    return EvaluationRead(
        id=e.id, contract_id=e.contract_id, region_code=e.region_code, period=e.period,
        indicator_system_id=e.indicator_system_id, scores=[IndicatorScore(**s) for s in e.scores],
        total=e.total, grade=e.grade, termination_recommended=e.termination_recommended,
        created_at=e.created_at,
    )  # fmt: skip


@router.post("/indicator-systems", status_code=201, response_model=IndicatorSystemRead, responses=PROBLEMS)
async def create_system(
    body: IndicatorSystemCreate, principal: Province, session: Session
) -> IndicatorSystemRead:
    """绩效评价指标体系 (province_admin): weights sum to 1; an `auto` indicator names its metric."""
    rules.check_indicators([rules.Indicator(i.code, i.weight, i.source, i.metric) for i in body.indicators])
    row = IndicatorSystem(
        name=body.name, year=body.year, created_by=principal.sub,
        indicators=[i.model_dump(mode="json") for i in body.indicators],
    )  # fmt: skip
    await store.add(session, row)
    out = IndicatorSystemRead.model_validate(row)
    record_change(
        session, principal, action="created", resource="indicator_system", resource_id=str(row.id),
        region=principal.region, data=out.model_dump(mode="json"),
    )  # fmt: skip
    return out


@router.get("/indicator-systems/{system_id}", response_model=IndicatorSystemRead, responses=PROBLEMS)
async def read_system(system_id: PathId, _principal: Reader, session: Session) -> IndicatorSystemRead:
    """指标体系 (public to every reader: contractors know how they are scored)."""
    found = await store.system(session, system_id)
    if found is None:
        raise not_found("指标体系", "indicator system")
    return IndicatorSystemRead.model_validate(found)


@router.get(
    "/indicator-systems",
    openapi_extra=exportable("indicator-systems"),
    response_model=Page[IndicatorSystemRead],
    responses=PROBLEMS,
)
async def list_systems(
    _principal: Reader,
    session: Session,
    paging: Paging,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="年度 (year)")] = None,
) -> Page[IndicatorSystemRead]:
    """指标体系列表."""
    rows, cursor = await store.list_systems(session, paging, year)
    return Page[IndicatorSystemRead](
        items=[IndicatorSystemRead.model_validate(r) for r in rows], next_cursor=cursor
    )


def _rate(metric: str | None, c: store.Counts, code: str) -> Fraction:
    if metric == "payroll_compliance_rate":
        return rules.ratio(c.compliant_months, c.owed_months, code)
    if metric == "violation_free_rate":
        return rules.violation_free(c.confirmed_violations, c.workers, code)
    if metric == "satisfaction_rate":
        return rules.ratio(c.satisfied, c.surveys, code)
    return rules.ratio(c.workers, c.posts, code)  # post_fill_rate: dispatched workers over posts


@router.post("/evaluations", status_code=201, response_model=EvaluationRead, responses=PROBLEMS)
async def evaluate(body: EvaluationCreate, principal: Evaluator, session: Session) -> EvaluationRead:
    """绩效评价 of a contract for a year or a quarter (its county's official, or the province): manual
    scores as given, automatic ones computed from the period's data; the weighted total half-up to 2
    decimals and its grade. A `fail` next to a `fail` of the period before or after sets
    `termination_recommended` on the evaluation and on the contract."""
    contract = await visible_contract(session, principal, body.contract_id, lock=True)  # one at a time
    if contract.status not in EVALUABLE:
        raise invalid("CONTRACT_NOT_EVALUABLE", "合同尚未履行，不能评价", "The contract has not begun")
    system = await store.system(session, body.indicator_system_id)
    if system is None:
        raise not_found("指标体系", "indicator system")
    first, last = rules.period_range(body.period)
    if system.year != first.year:
        raise invalid_field(
            "indicator_system_id", "INDICATOR_SYSTEM_YEAR", "指标体系的年度与评价期间不一致",
            "The indicator system is for another year",
        )  # fmt: skip
    if contract.start_date is None or contract.start_date > last or (contract.end_date or last) < first:
        raise invalid_field(
            "period", "PERIOD_OUTSIDE_TERM", "评价期间不在合同期限内", "The period is outside the term"
        )
    indicators = _indicators(system)
    rules.check_manual(indicators, body.manual_scores)
    if await store.evaluation_of(session, contract.id, body.period) is not None:
        raise conflict(
            "EVALUATION_EXISTS", "该合同该期间已评价", "This contract is evaluated for this period"
        )
    counts = await store.counts(session, contract, first, last, business_today(datetime.now(UTC)))
    scores, lines = {}, []
    for i in indicators:
        rate = _rate(i.metric, counts, i.code) if i.source == "auto" else None
        scores[i.code] = rules.score(rate) if rate is not None else body.manual_scores[i.code]
        value = Decimal(rate.numerator) / Decimal(rate.denominator) if rate is not None else None
        lines.append(
            IndicatorScore(
                code=i.code,
                source=i.source,
                weight=i.weight,
                score=scores[i.code],
                value=value.quantize(Decimal("0.0001")) if value is not None else None,
            )
        )
    total = rules.total(indicators, scores)
    grade = rules.grade(total)
    failed_next_to = False
    if grade == "fail":
        for other in rules.neighbours(body.period):
            found = await store.evaluation_of(session, contract.id, other)
            failed_next_to = failed_next_to or (found is not None and found.grade == "fail")
    row = Evaluation(
        contract_id=contract.id, region_code=contract.county_code, period=body.period,
        indicator_system_id=system.id, scores=[x.model_dump(mode="json") for x in lines], total=total,
        grade=grade, termination_recommended=failed_next_to, created_by=principal.sub,
    )  # fmt: skip
    await store.add(session, row)
    out = _evaluation_read(row)
    record_change(
        session, principal, action="created", resource="evaluation", resource_id=str(row.id),
        region=row.region_code, data=out.model_dump(mode="json"),
    )  # fmt: skip
    if failed_next_to:
        await store.recommend_termination(session, contract.id)
        record_change(
            session, principal, action="termination_recommended", resource="contract",
            resource_id=str(contract.id), region=contract.county_code, data={"evaluation_id": row.id},
        )  # fmt: skip
    return out


@router.get("/evaluations/{evaluation_id}", response_model=EvaluationRead, responses=PROBLEMS)
async def read_evaluation(evaluation_id: PathId, principal: Reader, session: Session) -> EvaluationRead:
    """绩效评价 (officials in scope of the contract's county; the contractor its own)."""
    found = await store.evaluation(session, evaluation_id)
    if found is None:
        raise not_found("绩效评价", "evaluation")
    await visible_contract(session, principal, found.contract_id)
    return _evaluation_read(found)


@router.get(
    "/evaluations",
    openapi_extra=exportable("evaluations"),
    response_model=Page[EvaluationRead],
    responses=PROBLEMS,
)
async def list_evaluations(
    principal: Reader,
    session: Session,
    paging: Paging,
    region: Annotated[str | None, Query(description="区划前缀 (county)")] = None,
    contract_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="合同 (contract)")] = None,
    period: Annotated[str | None, Query(pattern=r"^\d{4}(-Q[1-4])?$", description="期间 (period)")] = None,
) -> Page[EvaluationRead]:
    """绩效评价列表 (in scope; a contractor its own contracts')."""
    code, own = listed_scope(principal, region)
    rows, cursor = await store.list_evaluations(
        session, paging, region=code, own=own, contract_id=contract_id, period=period
    )
    return Page[EvaluationRead](items=[_evaluation_read(e) for e in rows], next_cursor=cursor)


@router.post("/satisfaction-surveys", status_code=201, response_model=SurveyRead, responses=PROBLEMS)
async def survey(body: SurveyCreate, principal: Surveyor, session: Session) -> SurveyRead:
    """满意度调查 (an official of the region or above): one answer 1–5, about a contract's service
    where known (the region must then be within the contract's county)."""
    code = parse_code(body.region_code, "region_code")
    if len(code) < 6:
        raise invalid_field("region_code", "REGION_LEVEL", "须为县及以下区划", "A county or a unit below it")
    ensure_in_scope(principal, code, "区划", "region")
    if body.contract_id is not None:
        contract = await visible_contract(session, principal, body.contract_id)
        if not code.startswith(contract.county_code):
            raise invalid_field(
                "region_code", "REGION_OUTSIDE_CONTRACT", "区划不在该合同的服务范围内",
                "The region is outside the contract's county",
            )  # fmt: skip
    today = business_today(datetime.now(UTC))
    if body.surveyed_on is not None and body.surveyed_on > today:
        raise invalid_field(
            "surveyed_on", "DATE_IN_FUTURE", "调查日期不能晚于今天", "surveyed_on is in the future"
        )
    row = SatisfactionSurvey(
        region_code=code, contract_id=body.contract_id, score=body.score, channel=body.channel,
        comment=body.comment, surveyed_on=body.surveyed_on or today, created_by=principal.sub,
    )  # fmt: skip
    await store.add(session, row)
    out = SurveyRead.model_validate(row)
    record_change(
        session, principal, action="created", resource="satisfaction_survey", resource_id=str(row.id),
        region=code, data=out.model_dump(mode="json"),
    )  # fmt: skip
    return out


@router.get(
    "/satisfaction-surveys",
    openapi_extra=exportable("satisfaction-surveys"),
    response_model=Page[SurveyRead],
    responses=PROBLEMS,
)
async def list_surveys(
    principal: OfficialReader,
    session: Session,
    paging: Paging,
    region: Annotated[str | None, Query(description="区划前缀 (region)")] = None,
    contract_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="合同 (contract)")] = None,
) -> Page[SurveyRead]:
    """满意度调查列表 (in scope)."""
    code, _ = listed_scope(principal, region)
    rows, cursor = await store.list_surveys(session, paging, region=code, contract_id=contract_id)
    return Page[SurveyRead](items=[SurveyRead.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/satisfaction-surveys/rate", response_model=SatisfactionRate, responses=PROBLEMS)
async def satisfaction_rate(
    principal: Reader,
    session: Session,
    region: Annotated[str | None, Query(description="区划前缀 (region)")] = None,
    contract_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="合同 (contract)")] = None,
    from_: Annotated[Day | None, Query(alias="from", description="起始日 (from, inclusive)")] = None,
    to: Annotated[Day | None, Query(description="截止日 (to, inclusive)")] = None,
) -> SatisfactionRate:
    """困难群众满意度 (share of scores 4–5) in a region, or for one contract (its contractor may ask)."""
    if contract_id is not None:
        contract = await visible_contract(session, principal, contract_id)
        code = parse_code(region, "region") if region is not None else contract.county_code
    elif principal.role == "contractor":
        raise invalid_field(
            "contract_id", "CONTRACT_REQUIRED", "承接主体须指定合同", "Name one of your contracts"
        )
    else:
        code, _ = listed_scope(principal, region)
    surveys, satisfied = await store.survey_counts(
        session, region=code, contract_id=contract_id, first=from_, last=to
    )
    return SatisfactionRate(
        region=code, contract_id=contract_id, surveys=surveys, satisfied=satisfied,
        rate=rules.satisfaction(satisfied, surveys),
    )  # fmt: skip
