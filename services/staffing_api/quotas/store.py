"""Every query of rule sets and quotas."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.models import StaffingRuleSet


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
