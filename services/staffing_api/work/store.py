"""Every query of duties, tasks, work logs and workload."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, String, case, cast, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.common.auth.deps import scope_filter
from services.common.auth.tokens import Principal
from services.common.models import Dispatch, Duty, Task, WorkLog
from services.common.pagination import PageParams, paginate
from services.common.regions import DIRECTLY_ADMINISTERED


async def duties(session: AsyncSession, level: str | None) -> Sequence[Duty]:
    stmt = select(Duty).order_by(Duty.level, Duty.code)
    if level is not None:
        stmt = stmt.where(Duty.level == level)
    return (await session.execute(stmt)).scalars().all()


async def catalog(session: AsyncSession) -> frozenset[tuple[str, str]]:
    return frozenset((row.code, row.level) for row in await session.execute(select(Duty.code, Duty.level)))


async def dispatches(session: AsyncSession, ids: Iterable[int]) -> dict[int, Dispatch]:
    rows = (await session.execute(select(Dispatch).where(Dispatch.id.in_(set(ids))))).scalars().all()
    return {d.id: d for d in rows}


async def add(session: AsyncSession, row: Task) -> None:
    session.add(row)
    await session.flush()


async def get_task(session: AsyncSession, task_id: int) -> Task | None:
    return await session.get(Task, task_id)


async def task_dispatches(session: AsyncSession, task_ids: Iterable[int]) -> dict[int, int]:
    rows = await session.execute(select(Task.id, Task.dispatch_id).where(Task.id.in_(set(task_ids))))
    return {row.id: row.dispatch_id for row in rows}


async def insert_logs(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> dict[tuple[int, uuid.UUID], int]:
    """Insert what is new; ``(dispatch_id, client_id)`` already stored is left alone. → new ids."""
    if not rows:
        return {}
    # executemany ("insertmanyvalues"): the statement compiles once and is cached, whatever the batch
    # size; a .values([...]) of 500 rows was compiled afresh each time (~200 ms, profiled).
    stmt = (
        insert(WorkLog)
        .on_conflict_do_nothing(constraint="uq_work_logs_dispatch_client")
        .returning(WorkLog.dispatch_id, WorkLog.client_id, WorkLog.id)
    )
    return {(row.dispatch_id, row.client_id): row.id for row in await session.execute(stmt, list(rows))}


async def existing_logs(
    session: AsyncSession, keys: Iterable[tuple[int, uuid.UUID]]
) -> dict[tuple[int, uuid.UUID], WorkLog]:
    keys = list(keys)
    if not keys:
        return {}
    stmt = select(WorkLog).where(
        func.row(WorkLog.dispatch_id, WorkLog.client_id).in_([func.row(d, c) for d, c in keys])
    )
    return {(w.dispatch_id, w.client_id): w for w in (await session.execute(stmt)).scalars()}


def _key(group_by: str) -> ColumnElement[str]:
    region = WorkLog.region_code
    if group_by == "duty":
        return WorkLog.duty_code.expression
    if group_by == "prefecture":
        # The three directly administered counties stand beside the prefectures (fund allocation).
        county = func.substr(region, 1, 6)
        return case((county.in_(DIRECTLY_ADMINISTERED), county), else_=func.substr(region, 1, 4))
    return func.substr(region, 1, {"county": 6, "township": 9}[group_by])


async def workload(
    session: AsyncSession, prefix: str, start: date | None, end: date | None, group_by: str
) -> Sequence[Row[str, int, int]]:
    key = _key(group_by).label("key")
    stmt = select(key, func.count().label("logs"), func.sum(WorkLog.quantity).label("quantity")).where(
        WorkLog.region_code.startswith(prefix, autoescape=True)
    )
    if start is not None:
        stmt = stmt.where(WorkLog.date >= start)
    if end is not None:
        stmt = stmt.where(WorkLog.date <= end)
    return (await session.execute(stmt.group_by(key).order_by(key))).all()


def _visible(
    principal: Principal, region: InstrumentedAttribute[str], person: InstrumentedAttribute[int]
) -> Any:
    """A worker sees its own rows (``sub`` = person id); everyone else its region and below."""
    if principal.role == "worker":
        return cast(person, String) == principal.sub
    return scope_filter(region, principal)


async def get_log(session: AsyncSession, log_id: int) -> WorkLog | None:
    return await session.get(WorkLog, log_id)


async def list_logs(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    region: str | None,
    dispatch_id: int | None,
) -> tuple[Sequence[WorkLog], str | None]:
    stmt = select(WorkLog).where(_visible(principal, WorkLog.region_code, WorkLog.person_id))
    if region is not None:
        stmt = stmt.where(WorkLog.region_code.startswith(region, autoescape=True))
    if dispatch_id is not None:
        stmt = stmt.where(WorkLog.dispatch_id == dispatch_id)
    return await paginate(session, stmt, WorkLog.id, params)


async def list_tasks(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    region: str | None,
    dispatch_id: int | None,
) -> tuple[Sequence[Task], str | None]:
    stmt = select(Task).join(Dispatch, Dispatch.id == Task.dispatch_id)
    stmt = stmt.where(_visible(principal, Task.region_code, Dispatch.person_id))
    if region is not None:
        stmt = stmt.where(Task.region_code.startswith(region, autoescape=True))
    if dispatch_id is not None:
        stmt = stmt.where(Task.dispatch_id == dispatch_id)
    return await paginate(session, stmt, Task.id, params)
