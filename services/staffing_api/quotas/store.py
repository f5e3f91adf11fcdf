"""Every query of rule sets and quotas."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, case, func, literal, or_, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.models import Contract, Dispatch, EstablishmentPost, Region, RegionStats, StaffingRuleSet
from services.staffing_api.dispatch_reads import dispatch_active_on
from services.staffing_api.quotas import sql
from services.staffing_api.quotas.rules import RuleParameters


async def rule_set(session: AsyncSession, rule_set_id: int) -> StaffingRuleSet | None:
    return await session.get(StaffingRuleSet, rule_set_id)


async def rule_set_in_effect(session: AsyncSession, on: date) -> StaffingRuleSet | None:
    stmt = (
        select(StaffingRuleSet)
        .where(StaffingRuleSet.effective_from <= on)
        .order_by(StaffingRuleSet.effective_from.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def rule_sets(session: AsyncSession) -> Sequence[StaffingRuleSet]:
    return (
        (await session.execute(select(StaffingRuleSet).order_by(StaffingRuleSet.effective_from)))
        .scalars()
        .all()
    )


async def effective_date_taken(session: AsyncSession, on: date) -> bool:
    stmt = select(StaffingRuleSet.id).where(StaffingRuleSet.effective_from == on)
    return (await session.execute(stmt)).first() is not None


async def add_rule_set(session: AsyncSession, row: StaffingRuleSet) -> None:
    session.add(row)
    await session.flush()


def _units(day: date, month: date, *, prefix: str, exact: bool) -> Any:
    """One row per county, township and village under ``prefix`` (or exactly it): its figure from the
    latest month ≤ ``month`` and its established and dispatched staff on ``day`` — the inputs of
    every quota, for any parameters."""
    stats = RegionStats.__table__.alias("s")
    unit = Region.__table__.alias("u")
    needed = case((unit.c.level == "village", stats.c.population), else_=stats.c.dibao_recipients)
    latest = (
        select(needed.label("figure"))
        .where(stats.c.region_code == unit.c.code, stats.c.month <= month, needed.is_not(None))
        .order_by(stats.c.month.desc())
        .limit(1)
        .lateral("f")
    )
    in_units = unit.c.code == prefix if exact else unit.c.code.startswith(prefix, autoescape=True)
    established = (
        select(EstablishmentPost.region_code, func.count().label("n"))
        .where(
            EstablishmentPost.region_code.startswith(prefix, autoescape=True),
            EstablishmentPost.since <= day,
            or_(EstablishmentPost.until.is_(None), EstablishmentPost.until >= day),
        )
        .group_by(EstablishmentPost.region_code)
        .subquery("e")
    )
    dispatched = (
        select(Dispatch.region_code, func.count().label("n"))
        .join(Contract, Contract.id == Dispatch.contract_id)
        .where(Dispatch.region_code.startswith(prefix, autoescape=True), dispatch_active_on(day))
        .group_by(Dispatch.region_code)
        .subquery("d")
    )
    figure = func.coalesce(latest.c.figure, 0)
    # A village's assistants are dispatched, never established (staffing.md).
    est = case((unit.c.level == "village", 0), else_=func.coalesce(established.c.n, 0))
    disp = func.coalesce(dispatched.c.n, 0)
    base = (
        select(
            unit.c.code.label("region_code"),
            unit.c.name.label("name"),
            unit.c.level.label("level"),
            figure.label("figure"),
            latest.c.figure.is_(None).label("stats_missing"),
            est.label("established"),
            disp.label("dispatched"),
        )
        .select_from(unit)
        .outerjoin(latest, true())
        .outerjoin(established, established.c.region_code == unit.c.code)
        .outerjoin(dispatched, dispatched.c.region_code == unit.c.code)
        .where(in_units, unit.c.level.in_(("county", "township", "village")))
        .subquery("b")
    )
    return base


def unit_rows(p: RuleParameters, day: date, month: date, *, prefix: str, exact: bool = False) -> Select[Any]:
    """Each unit of ``_units`` with its quota under ``p`` — all in SQL."""
    base = _units(day, month, prefix=prefix, exact=exact)
    req = sql.required_min(base.c.level, base.c.figure, p)
    cap = sql.allowed_max(base.c.level, base.c.figure, p)
    total = base.c.established + base.c.dispatched
    computed = select(
        base, req.label("required_min"), cap.label("allowed_max"), total.label("total")
    ).subquery("q")
    shortfall = func.greatest(computed.c.required_min - computed.c.total, 0)
    status = case(
        (computed.c.total < computed.c.required_min, "below_minimum"),
        (
            and_(computed.c.allowed_max.is_not(None), computed.c.total > computed.c.allowed_max),
            "above_maximum",
        ),
        else_="within_quota",
    )
    return select(computed, shortfall.label("shortfall"), status.label("status"))


async def unit_quota(
    session: AsyncSession, p: RuleParameters, day: date, month: date, code: str
) -> Row[Any] | None:
    row: Row[Any] | None = (
        await session.execute(unit_rows(p, day, month, prefix=code, exact=True))
    ).one_or_none()
    return row


async def list_quotas(
    session: AsyncSession,
    p: RuleParameters,
    day: date,
    month: date,
    *,
    prefix: str,
    level: str | None,
    status: str | None,
    limit: int,
    after: str | None,
) -> Sequence[Row[Any]]:
    q = unit_rows(p, day, month, prefix=prefix).subquery("rows")
    stmt = select(q)
    if level is not None:
        stmt = stmt.where(q.c.level == level)
    if status is not None:
        stmt = stmt.where(q.c.status == status)
    if after is not None:
        stmt = stmt.where(q.c.region_code > after)
    return (await session.execute(stmt.order_by(q.c.region_code).limit(limit))).all()


async def summary(
    session: AsyncSession, p: RuleParameters, day: date, month: date, *, prefix: str, child_length: int | None
) -> Sequence[Row[Any]]:
    """Per level, and per child region and level, in one query (GROUPING SETS)."""
    q = unit_rows(p, day, month, prefix=prefix).subquery("rows")
    if child_length is None:
        child: ColumnElement[Any] = literal(None)
        group: list[ColumnElement[Any]] = [q.c.level]
    else:
        child = func.substr(q.c.region_code, 1, child_length)
        group = [func.grouping_sets(tuple_(q.c.level), tuple_(child, q.c.level))]
    stmt = select(
        child.label("child"),
        q.c.level,
        func.count().label("units"),
        func.count().filter(q.c.status == "below_minimum").label("below_minimum"),
        func.count().filter(q.c.status == "within_quota").label("within_quota"),
        func.count().filter(q.c.status == "above_maximum").label("above_maximum"),
        func.coalesce(func.sum(q.c.shortfall), 0).label("shortfall"),
        func.count().filter(q.c.dispatched > 0).label("covered"),
        func.count().filter(q.c.stats_missing).label("stats_missing"),
    ).group_by(*group)
    return (await session.execute(stmt)).all()


async def simulation(
    session: AsyncSession,
    baseline: RuleParameters,
    draft: RuleParameters,
    day: date,
    month: date,
    *,
    prefix: str,
    child_length: int | None,
) -> Sequence[Row[Any]]:
    """The same units under two parameter sets, summed per level and per child region and level in
    one query (quota-simulations)."""
    b = _units(day, month, prefix=prefix, exact=False)
    total = b.c.established + b.c.dispatched
    rows = select(
        b.c.region_code,
        b.c.level,
        sql.required_min(b.c.level, b.c.figure, baseline).label("req_before"),
        sql.required_min(b.c.level, b.c.figure, draft).label("req_after"),
        sql.allowed_max(b.c.level, b.c.figure, baseline).label("cap_before"),
        sql.allowed_max(b.c.level, b.c.figure, draft).label("cap_after"),
        total.label("total"),
    ).subquery("q")
    if child_length is None:
        child: ColumnElement[Any] = literal(None)
        group: list[ColumnElement[Any]] = [rows.c.level]
    else:
        child = func.substr(rows.c.region_code, 1, child_length)
        group = [func.grouping_sets(tuple_(rows.c.level), tuple_(child, rows.c.level))]
    changed = or_(rows.c.req_before != rows.c.req_after, rows.c.cap_before.is_distinct_from(rows.c.cap_after))
    stmt = select(
        child.label("child"),
        rows.c.level,
        func.count().label("units"),
        func.sum(rows.c.req_before).label("req_before"),
        func.sum(rows.c.req_after).label("req_after"),
        func.sum(rows.c.cap_before).label("cap_before"),
        func.sum(rows.c.cap_after).label("cap_after"),
        func.sum(func.greatest(rows.c.req_before - rows.c.total, 0)).label("short_before"),
        func.sum(func.greatest(rows.c.req_after - rows.c.total, 0)).label("short_after"),
        func.count().filter(changed).label("units_changed"),
    ).group_by(*group)
    return (await session.execute(stmt)).all()


async def mean_wage(session: AsyncSession, day: date, prefix: str) -> Decimal | None:
    """The mean ``monthly_wage`` of the dispatches active in ``prefix`` on ``day`` (None: none)."""
    stmt = (
        select(func.avg(Dispatch.monthly_wage))
        .join(Contract, Contract.id == Dispatch.contract_id)
        .where(Dispatch.region_code.startswith(prefix, autoescape=True), dispatch_active_on(day))
    )
    found = await session.scalar(stmt)
    return None if found is None else Decimal(found)
