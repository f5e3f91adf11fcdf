"""Every query of the ledger. Writers serialise per contract on its head row, taken ``FOR UPDATE``
as the last thing before the insert (services/common/concurrency.py): never ``max(seq) + 1`` and never
a sequence, which a rolled-back ``nextval`` would leave gapped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric, Row, String, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.database import Statement, driver
from services.common.models import Contract, LedgerEntry, LedgerHead, Violation
from services.penalty_api.ledger import rules


@dataclass(frozen=True)
class NewEntry:
    contract_id: int
    entry_type: str
    amount: Decimal
    violation_id: int | None = None
    appeal_id: int | None = None
    payment_ref: str | None = None
    period: str | None = None


@dataclass(frozen=True)
class Chained:
    seq: int
    hash: str


# The chained write, as SQL pieces every writer of the ledger composes into one statement: lock the
# contract's head, chain the entry (its hash by the database's ledger_hash, migration 0014), move the
# head on. A statement that finds no head returns no row: the contract's first entry makes it first.
HEAD_LOCKED = (
    "head AS (SELECT last_seq, last_hash FROM ledger_heads WHERE contract_id = :contract_id FOR UPDATE)"
)
# The only bind parameters the pieces use; a statement built on them declares these types.
APPEND_TYPES = (
    bindparam("contract_id", type_=BigInteger), bindparam("violation_id", type_=BigInteger),
    bindparam("appeal_id", type_=BigInteger), bindparam("amount", type_=Numeric(16, 2)),
    bindparam("entry_type", type_=String), bindparam("payment_ref", type_=String),
    bindparam("period", type_=String),
    bindparam("created_at", type_=DateTime(timezone=True)), bindparam("created_by", type_=String),
    bindparam("request_id", type_=String),
)  # fmt: skip


def chained(*, violation_id: str = ":violation_id", rows: str = "head") -> str:
    """The ``entry`` and ``moved`` CTEs after ``HEAD_LOCKED``. ``rows`` is what the entry is selected
    from (``head``, or ``head, v`` when a CTE ``v`` made the violation in the same statement, whose
    id is then ``v.id``)."""
    return f"""
    entry AS (
        INSERT INTO ledger_entries (contract_id, seq, entry_type, amount, violation_id, appeal_id,
                                    payment_ref, period, created_at, created_by, request_id, prev_hash, hash)
        SELECT :contract_id, head.last_seq + 1, :entry_type, :amount, {violation_id}, :appeal_id,
               :payment_ref, :period, :created_at, :created_by, :request_id, head.last_hash,
               ledger_hash(:contract_id, head.last_seq + 1, :entry_type, :amount, {violation_id}, :appeal_id,
                           :payment_ref, :period, :created_at, :created_by, :request_id, head.last_hash)
        FROM {rows}
        RETURNING seq, hash
    ), moved AS (
        UPDATE ledger_heads AS h
        SET last_seq = entry.seq, last_hash = entry.hash,
            deducted = h.deducted + CASE WHEN :entry_type = 'deduction' THEN :amount ELSE 0 END,
            reversed = h.reversed + CASE WHEN :entry_type = 'reversal' THEN :amount ELSE 0 END,
            settled = h.settled + CASE WHEN :entry_type = 'settlement' THEN :amount ELSE 0 END
        FROM entry WHERE h.contract_id = :contract_id
        RETURNING h.contract_id
    )"""  # noqa: S608 - fixed SQL; the two pieces are the module's own, never input


_APPEND = Statement(
    text(
        f"WITH {HEAD_LOCKED}, {chained()} SELECT entry.seq, entry.hash FROM entry, moved"  # noqa: S608 - fixed SQL
    ).bindparams(*APPEND_TYPES)
)
_NEW_HEAD = text(
    "INSERT INTO ledger_heads (contract_id, last_seq, last_hash) VALUES (:contract_id, 0, :genesis) "
    "ON CONFLICT (contract_id) DO NOTHING"
)


async def head(session: AsyncSession, contract_id: int, *, lock: bool) -> LedgerHead:
    """The contract's head (created at zero the first time), locked when ``lock``."""
    await session.execute(_NEW_HEAD, {"contract_id": contract_id, "genesis": rules.GENESIS})
    found = await session.get(LedgerHead, contract_id, with_for_update=lock, populate_existing=True)
    if found is None:  # inserted just above or already there
        raise LookupError(contract_id)
    return found


def entry_values(
    new: NewEntry, *, created_by: str, request_id: str, at: datetime | None = None
) -> dict[str, Any]:
    """The bind parameters of ``chained`` for one entry (``at``: its ``created_at``, default now)."""
    return {
        "contract_id": new.contract_id, "entry_type": new.entry_type, "amount": new.amount,
        "violation_id": new.violation_id, "appeal_id": new.appeal_id, "payment_ref": new.payment_ref,
        "period": new.period, "created_at": at or datetime.now(UTC), "created_by": created_by,
        "request_id": request_id,
    }  # fmt: skip


async def chain(session: AsyncSession, statement: Statement, values: dict[str, Any]) -> Any:
    """Run a statement built on ``HEAD_LOCKED`` and ``chained`` (on the driver connection: every
    deduction, reversal and settlement runs one) and return its row; the head's lock is held from
    here to the commit, so nothing but the audit and events (or the statement's own ``flush_ctes``)
    and COMMIT should follow it."""
    row = await statement.fetchrow(await driver(session), values)
    if row is None:  # the contract's first entry: make its head, then chain
        await session.execute(_NEW_HEAD, {"contract_id": values["contract_id"], "genesis": rules.GENESIS})
        row = await statement.fetchrow(await driver(session), values)
        if row is None:
            raise LookupError(values["contract_id"])  # a head made just above is there
    for loaded in list(session.identity_map.values()):  # the head changed below the ORM
        if isinstance(loaded, LedgerHead):
            session.expire(loaded)
    return row


async def append(session: AsyncSession, new: NewEntry, *, created_by: str, request_id: str) -> Chained:
    """Chain one entry onto its contract in one statement."""
    row = await chain(session, _APPEND, entry_values(new, created_by=created_by, request_id=request_id))
    return Chained(int(row["seq"]), str(row["hash"]))


async def settle(
    session: AsyncSession, locked: LedgerHead, gross: Decimal, payment_ref: str, period: str, *,
    created_by: str, request_id: str,
) -> tuple[Chained, rules.SettlementFigures]:  # fmt: skip
    """A settlement entry computed from the balance of the head the caller has locked
    (``head(lock=True)``), so two payments of one contract never both absorb the same deduction."""
    figures = rules.settle(rules.Balance(locked.deducted, locked.reversed, locked.settled), gross)
    new = NewEntry(
        locked.contract_id, "settlement", figures.entry_amount, payment_ref=payment_ref, period=period
    )
    return await append(session, new, created_by=created_by, request_id=request_id), figures


def published(e: LedgerEntry | Row[Any]) -> dict[str, object]:
    return rules.fields(
        contract_id=e.contract_id, seq=e.seq, entry_type=e.entry_type, amount=e.amount,
        violation_id=e.violation_id, appeal_id=e.appeal_id, payment_ref=e.payment_ref, period=e.period,
        created_at=e.created_at, created_by=e.created_by, request_id=e.request_id, prev_hash=e.prev_hash,
    )  # fmt: skip


async def entries(
    session: AsyncSession, contract_id: int, after_seq: int, limit: int
) -> Sequence[LedgerEntry]:
    stmt = (
        select(LedgerEntry)
        .where(LedgerEntry.contract_id == contract_id, LedgerEntry.seq > after_seq)
        .order_by(LedgerEntry.seq)
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def balance(session: AsyncSession, contract_id: int) -> rules.Balance:
    found = await session.get(LedgerHead, contract_id)
    if found is None:
        return rules.Balance(rules.ZERO, rules.ZERO, rules.ZERO)
    return rules.Balance(found.deducted, found.reversed, found.settled)


_VERIFY = text(
    """
    WITH checked AS (
        SELECT contract_id, seq,
               hash = ledger_hash(contract_id, seq, entry_type, amount, violation_id, appeal_id, payment_ref,
                                  period, created_at, created_by, request_id, prev_hash)
               AND prev_hash = coalesce(lag(hash) OVER w, repeat('0', 64))
               AND seq = row_number() OVER w AS intact
        FROM ledger_entries
        WHERE contract_id = ANY(:contract_ids)
        WINDOW w AS (PARTITION BY contract_id ORDER BY seq)
    )
    SELECT count(DISTINCT contract_id) AS contracts, count(*) AS entries,
           (SELECT ARRAY[contract_id, seq] FROM checked WHERE NOT intact ORDER BY contract_id, seq LIMIT 1)
               AS first_bad
    FROM checked
    """
).bindparams(bindparam("contract_ids", type_=ARRAY(BigInteger)))


async def verify(
    session: AsyncSession, contract_ids: Sequence[int]
) -> tuple[int, int, tuple[int, int] | None]:
    """Every hash recomputed by the database, every link and seq checked, in one query:
    (contracts, entries, the first broken (contract, seq) or None)."""
    if not contract_ids:
        return 0, 0, None
    row = (await session.execute(_VERIFY, {"contract_ids": list(contract_ids)})).one()
    bad = (int(row.first_bad[0]), int(row.first_bad[1])) if row.first_bad else None
    return int(row.contracts), int(row.entries), bad


async def contracts_with_entries(session: AsyncSession, region: str) -> list[int]:
    stmt = (
        select(Contract.id)
        .where(Contract.county_code.startswith(region, autoescape=True))
        .where(select(func.count()).where(LedgerEntry.contract_id == Contract.id).scalar_subquery() > 0)
        .order_by(Contract.id)
    )
    return list((await session.execute(stmt)).scalars())


async def contract(session: AsyncSession, contract_id: int) -> Contract | None:
    return await session.get(Contract, contract_id)


async def year_summary(
    session: AsyncSession, region: str, own: int | None, year: int
) -> list[tuple[Contract, dict[str, int], Decimal, Decimal, Decimal]]:
    """Per contract under ``region`` (a contractor: its own) with activity in ``year``: confirmed
    violations by kind (decided that year), deducted and reversed that year, outstanding now."""

    day = func.date(func.timezone("Asia/Shanghai", LedgerEntry.created_at))
    sums = (
        select(
            LedgerEntry.contract_id,
            func.coalesce(func.sum(LedgerEntry.amount).filter(LedgerEntry.entry_type == "deduction"), 0),
            func.coalesce(func.sum(LedgerEntry.amount).filter(LedgerEntry.entry_type == "reversal"), 0),
        )
        .where(func.extract("year", day) == year)
        .group_by(LedgerEntry.contract_id)
    )
    kinds = (
        select(Violation.contract_id, Violation.kind, func.count())
        .where(
            Violation.status.in_(("confirmed", "overturned")),
            func.extract("year", Violation.decided_on) == year,
        )
        .group_by(Violation.contract_id, Violation.kind)
    )
    money = {cid: (d, r) for cid, d, r in (await session.execute(sums)).all()}
    by_kind: dict[int, dict[str, int]] = {}
    for cid, kind, n in (await session.execute(kinds)).all():
        by_kind.setdefault(cid, {})[kind] = n
    heads = {h.contract_id: h for h in (await session.execute(select(LedgerHead))).scalars()}
    stmt = (
        select(Contract).where(Contract.county_code.startswith(region, autoescape=True)).order_by(Contract.id)
    )
    if own is not None:
        stmt = stmt.where(Contract.contractor_id == own)
    out = []
    for c in (await session.execute(stmt)).scalars():
        if c.id not in money and c.id not in by_kind:
            continue
        d, r = money.get(c.id, (rules.ZERO, rules.ZERO))
        h = heads.get(c.id)
        outstanding = rules.Balance(h.deducted, h.reversed, h.settled).outstanding if h else rules.ZERO
        out.append((c, by_kind.get(c.id, {}), Decimal(d), Decimal(r), outstanding))
    return out
