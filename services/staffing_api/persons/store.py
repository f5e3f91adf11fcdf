"""Every query of persons, the established roster and the facts eligibility needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import String, cast, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth.deps import scope_filter
from services.common.auth.tokens import Principal
from services.common.database import flush_guarded
from services.common.models import Contract, Dispatch, EstablishmentPost, Person
from services.common.pagination import PageParams, paginate
from services.staffing_api.dispatch_reads import dispatch_active_on


async def get(session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


async def by_hash(session: AsyncSession, digest: bytes) -> Person | None:
    return (await session.execute(select(Person).where(Person.id_number_hash == digest))).scalar_one_or_none()


async def add_person(session: AsyncSession, person: Person, exists: Exception) -> None:
    """Insert; a racing registration of the same ID number gets ``exists``, as a later one would."""
    session.add(person)
    await flush_guarded(session, {"uq_persons_id_number_hash": exists})


async def add(session: AsyncSession, row: Person | EstablishmentPost) -> None:
    session.add(row)
    await session.flush()


async def dispatched_by(session: AsyncSession, person_id: int, org_id: str) -> bool:
    stmt = select(
        exists()
        .where(Dispatch.person_id == person_id, Dispatch.contract_id == Contract.id)
        .where(cast(Contract.contractor_id, String) == org_id)
    )
    return bool((await session.execute(stmt)).scalar())


async def list_persons(
    session: AsyncSession, principal: Principal, params: PageParams, region: str | None
) -> tuple[Sequence[Person], str | None]:
    stmt = select(Person)
    if principal.role == "contractor":
        # A contractor sees the persons it registered and the persons it dispatched.
        dispatched = (
            select(Dispatch.person_id)
            .join(Contract, Contract.id == Dispatch.contract_id)
            .where(cast(Contract.contractor_id, String) == principal.org_id)
        )
        stmt = stmt.where(or_(Person.created_by_org_id == principal.org_id, Person.id.in_(dispatched)))
    elif principal.role == "worker":
        stmt = stmt.where(cast(Person.id, String) == principal.sub)
    else:
        stmt = stmt.where(scope_filter(Person.region_code, principal))
    if region is not None:
        stmt = stmt.where(Person.region_code.startswith(region, autoescape=True))
    return await paginate(session, stmt, Person.id, params)


async def on_roster(session: AsyncSession, person_id: int, day: date) -> bool:
    stmt = select(
        exists().where(
            EstablishmentPost.person_id == person_id,
            EstablishmentPost.since <= day,
            (EstablishmentPost.until.is_(None)) | (EstablishmentPost.until >= day),
        )
    )
    return bool((await session.execute(stmt)).scalar())


async def actively_dispatched(session: AsyncSession, person_id: int, day: date) -> bool:
    stmt = select(
        exists().where(
            Dispatch.person_id == person_id, Dispatch.contract_id == Contract.id, dispatch_active_on(day)
        )
    )
    return bool((await session.execute(stmt)).scalar())


async def open_post(session: AsyncSession, person_id: int) -> EstablishmentPost | None:
    stmt = select(EstablishmentPost).where(
        EstablishmentPost.person_id == person_id, EstablishmentPost.until.is_(None)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_post(session: AsyncSession, post_id: int, *, lock: bool = True) -> EstablishmentPost | None:
    return await session.get(EstablishmentPost, post_id, with_for_update=lock)


async def list_posts(
    session: AsyncSession, prefix: str, params: PageParams
) -> tuple[Sequence[EstablishmentPost], str | None]:
    stmt = select(EstablishmentPost).where(EstablishmentPost.region_code.startswith(prefix, autoescape=True))
    return await paginate(session, stmt, EstablishmentPost.id, params)
