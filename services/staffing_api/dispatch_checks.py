"""What contract_api asks staffing's rules before it dispatches a person (contracts.md *Dispatch*).

The rules live once, in staffing_api: the assistant conditions (``persons.rules``), the roster and
dispatch look-ups (``persons.store``) and the village quota in SQL (``quotas.store``). contract_api
calls these two functions instead of copying any of them, so a dispatch and the eligibility
endpoint can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import Rejection
from services.common.models import Person
from services.staffing_api.persons import rules as person_rules
from services.staffing_api.persons import store as persons
from services.staffing_api.quotas import store as quotas
from services.staffing_api.quotas.rules import RuleParameters


@dataclass(frozen=True)
class Declarations:
    """The contractor's written confirmations for a village or community post."""

    health_confirmed: bool
    law_abiding_confirmed: bool
    has_other_job: bool


async def person_failings(
    session: AsyncSession, person: Person, on: date, declarations: Declarations | None
) -> list[Rejection]:
    """Every reason the person cannot start a dispatch on ``on``: the roster (两头占) and an overlapping
    dispatch for any post; with ``declarations`` (village posts) also the assistant conditions of
    §二(二) — age, education and the declared facts."""
    facts = person_rules.Facts(
        birth_date=person.birth_date,
        education=person.education,
        health_confirmed=declarations.health_confirmed if declarations else True,
        law_abiding_confirmed=declarations.law_abiding_confirmed if declarations else True,
        has_other_job=declarations.has_other_job if declarations else False,
        on_establishment_roster=await persons.on_roster(session, person.id, on),
        already_dispatched=await persons.actively_dispatched(session, person.id, on),
    )
    _age, failing = person_rules.assistant_failings(facts, on)
    if declarations is None:
        return [f for f in failing if f.code in ("ON_ESTABLISHMENT_ROSTER", "ALREADY_DISPATCHED")]
    return failing


@dataclass(frozen=True)
class Room:
    allowed_max: int | None
    total: int

    @property
    def full(self) -> bool:
        return self.allowed_max is not None and self.total >= self.allowed_max


async def village_room(session: AsyncSession, code: str, on: date) -> Room | None:
    """The village's ceiling and its staff on ``on`` under the rule set in effect then, exactly as the
    quota endpoints count them (stats of the latest month up to ``on``). None without a rule set."""
    rule_set = await quotas.rule_set_in_effect(session, on)
    if rule_set is None:
        return None
    params = RuleParameters.model_validate(rule_set.parameters)
    row = await quotas.unit_quota(session, params, on, on.replace(day=1), code)
    if row is None:
        return None
    return Room(allowed_max=row.allowed_max, total=row.total)
