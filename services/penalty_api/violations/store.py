"""Every query of violations (and the contract_api rows they point at)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Numeric, bindparam, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from services.common.auth.deps import scope_filter
from services.common.auth.tokens import Principal
from services.common.changes import FLUSH_TYPES, flush_ctes, take_pending
from services.common.database import Statement
from services.common.models import Contract, Violation
from services.common.pagination import PageParams, paginate
from services.penalty_api.ledger import store as ledger


@dataclass(frozen=True)
class Posting:
    """What a violation needs of its dispatch and contract: where the worker is posted and the base."""

    dispatch_id: int
    contract_id: int
    region_code: str
    posting_level: str
    monthly_wage: Decimal
    posts: list[dict[str, Any]]
    new_id: int | None  # a violation id drawn for a violation confirmed at once (``posting(new=True)``)


# Built once, like the statements below: the confirmation is the ledger's hot path.
_POSTING = (
    "SELECT d.id, d.contract_id, d.region_code, d.posting_level, d.monthly_wage, c.posts, {new_id} AS new_id "
    "FROM dispatches AS d JOIN contracts AS c ON c.id = d.contract_id WHERE d.id = :dispatch_id"
)
_POSTINGS = {
    new: text(_POSTING.format(new_id=sql)).bindparams(bindparam("dispatch_id", type_=BigInteger))
    for new, sql in ((False, "NULL"), (True, "nextval(pg_get_serial_sequence('violations', 'id'))"))
}


async def posting(session: AsyncSession, dispatch_id: int, *, new: bool = False) -> Posting | None:
    """The dispatch's posting; ``new``: with the id the violation confirmed at once will take, so its
    event is known before the statement that chains it (which writes the event too)."""
    row = (await session.execute(_POSTINGS[new], {"dispatch_id": dispatch_id})).one_or_none()
    if row is None:
        return None
    return Posting(
        row.id, row.contract_id, row.region_code, row.posting_level, row.monthly_wage, row.posts or [],
        row.new_id,
    )  # fmt: skip


# Reported and confirmed in one step: the violation, its deduction entry, the head move, the audit row
# and the event (its ledger_seq filled in here) in one statement, run on its own (``single_write``):
# the lock is held for the statement and its commit only.
_LATE = "jsonb_build_object('ledger_seq', entry.seq)"
_VIOLATION_COLUMNS = (
    "id, dispatch_id, contract_id, region_code, kind, occurred_on, discovered_on, description, evidence, "
    "serious_social_impact, status, base, multiplier, amount, ledger_seq, decided_on, reported_by, "
    "created_at, updated_at"
)
_CONFIRMED_NEW = Statement(text(
    f"""
    WITH {ledger.HEAD_LOCKED}, v AS (
        INSERT INTO violations ({_VIOLATION_COLUMNS})
        SELECT :id, :dispatch_id, :contract_id, :region_code, :kind, :occurred_on, :discovered_on,
               :description, :evidence, :serious_social_impact, 'confirmed', :base, :multiplier, :amount,
               head.last_seq + 1, :decided_on, :created_by, :created_at, :created_at
        FROM head
        RETURNING id, version
    ), {ledger.chained(violation_id="v.id", rows="head, v")}, {flush_ctes(after="entry", late=_LATE)}
    SELECT v.id, v.version, entry.seq FROM v, entry, moved
    """  # noqa: S608 - fixed SQL: the ledger's own pieces, never input
).bindparams(
    *(b for b in ledger.APPEND_TYPES if b.key != "violation_id"), *FLUSH_TYPES,
    bindparam("id", type_=BigInteger), bindparam("dispatch_id", type_=BigInteger),
    bindparam("evidence", type_=JSONB),
    bindparam("serious_social_impact", type_=Boolean),
    bindparam("base", type_=Numeric(16, 2)), bindparam("multiplier", type_=Numeric(3, 2)),
    bindparam("occurred_on", type_=Date), bindparam("discovered_on", type_=Date),
    bindparam("decided_on", type_=Date),
))  # fmt: skip
# A reported violation confirmed: the entry chained, the violation moved on, the audit and the event,
# in one statement.
_CONFIRMED = Statement(text(
    f"""
    WITH {ledger.HEAD_LOCKED}, {ledger.chained()}, v AS (
        UPDATE violations
        SET status = 'confirmed', base = :base, multiplier = :multiplier, amount = :amount,
            ledger_seq = entry.seq, decided_on = :decided_on, version = version + 1, updated_at = :created_at
        FROM entry WHERE violations.id = :violation_id
        RETURNING violations.version
    ), {flush_ctes(after="entry", late=_LATE)}
    SELECT v.version, entry.seq FROM v, entry, moved
    """  # noqa: S608 - fixed SQL: the ledger's own pieces, never input
).bindparams(
    *ledger.APPEND_TYPES, *FLUSH_TYPES, bindparam("base", type_=Numeric(16, 2)),
    bindparam("multiplier", type_=Numeric(3, 2)), bindparam("decided_on", type_=Date),
))  # fmt: skip


@dataclass(frozen=True)
class Deduction:
    base: Decimal
    multiplier: Decimal
    amount: Decimal
    decided_on: date


async def report_confirmed(
    session: AsyncSession, fields: dict[str, Any], d: Deduction, *, at: datetime, created_by: str,
    request_id: str,
) -> tuple[int, int]:  # fmt: skip
    """Insert a confirmed violation (``fields``: its reported columns and its drawn ``id``) with its
    deduction chained, and the changes queued for it (``record_change(late=True)``): (version, seq)."""
    entry = ledger.NewEntry(contract_id=fields["contract_id"], entry_type="deduction", amount=d.amount)
    values = ledger.entry_values(entry, created_by=created_by, request_id=request_id, at=at)
    values.update(fields, base=d.base, multiplier=d.multiplier, decided_on=d.decided_on)
    values.update(take_pending(session))
    row = await ledger.chain(session, _CONFIRMED_NEW, values)
    return int(row["version"]), int(row["seq"])


async def confirm(
    session: AsyncSession, v: Violation, d: Deduction, *, at: datetime, created_by: str, request_id: str
) -> None:
    """Confirm a reported violation (locked by the caller), chain its deduction and write the changes
    queued for it (``record_change(late=True)``); ``v`` is brought up to date without another statement."""
    entry = ledger.NewEntry(v.contract_id, "deduction", d.amount, violation_id=v.id)
    values = ledger.entry_values(entry, created_by=created_by, request_id=request_id, at=at)
    values.update(base=d.base, multiplier=d.multiplier, decided_on=d.decided_on)
    values.update(take_pending(session))
    row = await ledger.chain(session, _CONFIRMED, values)
    changed = {
        "status": "confirmed", "base": d.base, "multiplier": d.multiplier, "amount": d.amount,
        "ledger_seq": int(row["seq"]), "decided_on": d.decided_on, "version": int(row["version"]),
        "updated_at": values["created_at"],
    }  # fmt: skip
    for name, value in changed.items():
        set_committed_value(v, name, value)  # already written: the ORM must not write it again


async def get(session: AsyncSession, violation_id: int, *, lock: bool = False) -> Violation | None:
    return await session.get(Violation, violation_id, with_for_update=lock, populate_existing=True)


async def add(session: AsyncSession, violation: Violation) -> None:
    session.add(violation)
    await session.flush()


async def list_violations(
    session: AsyncSession, principal: Principal, params: PageParams, *, region: str, own: int | None,
    contract_id: int | None, status: str | None,
) -> tuple[Sequence[Violation], str | None]:  # fmt: skip
    stmt = select(Violation).where(Violation.region_code.startswith(region, autoescape=True))
    if principal.role == "contractor":
        stmt = stmt.where(Violation.contract_id.in_(select(Contract.id).where(Contract.contractor_id == own)))
    else:
        stmt = stmt.where(scope_filter(Violation.region_code, principal))
    if contract_id is not None:
        stmt = stmt.where(Violation.contract_id == contract_id)
    if status is not None:
        stmt = stmt.where(Violation.status == status)
    return await paginate(session, stmt, Violation.id, params)


async def confirmed_of(session: AsyncSession, contract_id: int) -> Sequence[Violation]:
    stmt = select(Violation).where(Violation.contract_id == contract_id, Violation.status == "confirmed")
    return (await session.execute(stmt)).scalars().all()
