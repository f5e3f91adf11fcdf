"""Every query of indicator systems, evaluations, satisfaction surveys, and the counts the automatic
metrics are computed from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.models import Contract, Evaluation, IndicatorSystem, SatisfactionSurvey
from services.common.pagination import PageParams, paginate

# (dispatch, month) pairs a contract owed wages for in a period (months begun by ``as_of``), and how
# many of them were paid in full with social insurance (contracts.md *Payroll*).
_PAYROLL = text("""
    SELECT count(*) AS owed,
           count(*) FILTER (WHERE p.gross_wage >= d.monthly_wage AND p.social_insurance_paid) AS compliant
    FROM dispatches d
    CROSS JOIN LATERAL generate_series(
        date_trunc('month', greatest(d.start_date, :first)),
        date_trunc('month', least(coalesce(d.end_date, :last), :last, :as_of)),
        interval '1 month') AS m(month)
    LEFT JOIN payroll_records p ON p.dispatch_id = d.id AND p.month = m.month::date
    WHERE d.contract_id = :contract AND d.start_date <= :last AND coalesce(d.end_date, :last) >= :first""")

_WORKERS = text("""
    SELECT count(DISTINCT person_id) FROM dispatches
    WHERE contract_id = :contract AND start_date <= :last AND coalesce(end_date, :last) >= :first""")

_VIOLATIONS = text("""
    SELECT count(*) FROM violations
    WHERE contract_id = :contract AND status = 'confirmed' AND occurred_on BETWEEN :first AND :last""")


@dataclass(frozen=True)
class Counts:
    owed_months: int
    compliant_months: int
    workers: int
    confirmed_violations: int
    surveys: int
    satisfied: int
    posts: int


async def counts(session: AsyncSession, contract: Contract, first: date, last: date, as_of: date) -> Counts:
    params = {"contract": contract.id, "first": first, "last": last}
    owed, compliant = (await session.execute(_PAYROLL, {**params, "as_of": as_of})).one()
    workers = await session.scalar(_WORKERS, params)
    violations = await session.scalar(_VIOLATIONS, params)
    surveys, satisfied = await survey_counts(
        session, region="", contract_id=contract.id, first=first, last=last
    )
    posts = sum(int(p["count"]) for p in contract.posts or [])
    return Counts(owed, compliant, workers or 0, violations or 0, surveys, satisfied, posts)


async def add(session: AsyncSession, row: IndicatorSystem | Evaluation | SatisfactionSurvey) -> None:
    session.add(row)
    await session.flush()


async def system(session: AsyncSession, system_id: int) -> IndicatorSystem | None:
    return await session.get(IndicatorSystem, system_id)


async def list_systems(
    session: AsyncSession, params: PageParams, year: int | None
) -> tuple[Sequence[IndicatorSystem], str | None]:
    stmt = select(IndicatorSystem)
    if year is not None:
        stmt = stmt.where(IndicatorSystem.year == year)
    return await paginate(session, stmt, IndicatorSystem.id, params)


async def evaluation_of(session: AsyncSession, contract_id: int, period: str) -> Evaluation | None:
    stmt = select(Evaluation).where(Evaluation.contract_id == contract_id, Evaluation.period == period)
    return await session.scalar(stmt)


async def evaluation(session: AsyncSession, evaluation_id: int) -> Evaluation | None:
    return await session.get(Evaluation, evaluation_id)


async def recommend_termination(session: AsyncSession, contract_id: int) -> None:
    stmt = (
        update(Contract)
        .where(Contract.id == contract_id)
        .values(termination_recommended=True, version=Contract.version + 1, updated_at=func.now())
    )
    await session.execute(stmt)


async def list_evaluations(
    session: AsyncSession,
    params: PageParams,
    *,
    region: str,
    own: int | None,
    contract_id: int | None,
    period: str | None,
) -> tuple[Sequence[Evaluation], str | None]:
    stmt = select(Evaluation)
    if own is not None:
        stmt = stmt.join(Contract, Contract.id == Evaluation.contract_id).where(Contract.contractor_id == own)
    stmt = stmt.where(Evaluation.region_code.startswith(region, autoescape=True))
    if contract_id is not None:
        stmt = stmt.where(Evaluation.contract_id == contract_id)
    if period is not None:
        stmt = stmt.where(Evaluation.period == period)
    return await paginate(session, stmt, Evaluation.id, params)


async def list_surveys(
    session: AsyncSession, params: PageParams, *, region: str, contract_id: int | None
) -> tuple[Sequence[SatisfactionSurvey], str | None]:
    stmt = select(SatisfactionSurvey).where(
        SatisfactionSurvey.region_code.startswith(region, autoescape=True)
    )
    if contract_id is not None:
        stmt = stmt.where(SatisfactionSurvey.contract_id == contract_id)
    return await paginate(session, stmt, SatisfactionSurvey.id, params)


async def survey_counts(
    session: AsyncSession, *, region: str, contract_id: int | None, first: date | None, last: date | None
) -> tuple[int, int]:
    """(surveys, scores of 4–5) in the region, for the contract and between the dates where given."""
    s = SatisfactionSurvey
    stmt = select(func.count(), func.count().filter(s.score >= 4)).where(
        s.region_code.startswith(region, autoescape=True)
    )
    if contract_id is not None:
        stmt = stmt.where(s.contract_id == contract_id)
    if first is not None:
        stmt = stmt.where(s.surveyed_on >= first)
    if last is not None:
        stmt = stmt.where(s.surveyed_on <= last)
    surveys, satisfied = (await session.execute(stmt)).one()
    return int(surveys), int(satisfied)
