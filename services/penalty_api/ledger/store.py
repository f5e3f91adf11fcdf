"""Every query of the ledger. Writers serialise per contract on its head row, taken ``FOR UPDATE``
as the last thing before the insert (services/common/concurrency.py): never ``max(seq) + 1`` and never
a sequence, which a rolled-back ``nextval`` would leave gapped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.models import Contract, LedgerEntry, LedgerHead
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


async def head(session: AsyncSession, contract_id: int, *, lock: bool) -> LedgerHead:
    """The contract's head (created at zero the first time), locked when ``lock``."""
    await session.execute(
        insert(LedgerHead)
        .values(contract_id=contract_id, last_seq=0, last_hash=rules.GENESIS)
        .on_conflict_do_nothing(index_elements=["contract_id"])
    )
    found = await session.get(LedgerHead, contract_id, with_for_update=lock, populate_existing=True)
    if found is None:  # inserted just above or already there
        raise LookupError(contract_id)
    return found


async def append(session: AsyncSession, new: NewEntry, *, created_by: str, request_id: str) -> LedgerEntry:
    """Chain one entry onto its contract: lock the head, hash, insert, move the head on."""
    top = await head(session, new.contract_id, lock=True)
    return await _chain(session, top, new, created_by=created_by, request_id=request_id)


async def settle(
    session: AsyncSession, contract_id: int, gross: Decimal, payment_ref: str, period: str, *,
    created_by: str, request_id: str,
) -> tuple[LedgerEntry, rules.SettlementFigures]:  # fmt: skip
    """A settlement entry computed from the balance read under the head's lock, so two payments of
    one contract never both absorb the same deduction."""
    top = await head(session, contract_id, lock=True)
    figures = rules.settle(rules.Balance(top.deducted, top.reversed, top.settled), gross)
    new = NewEntry(contract_id, "settlement", figures.entry_amount, payment_ref=payment_ref, period=period)
    return await _chain(session, top, new, created_by=created_by, request_id=request_id), figures


async def _chain(
    session: AsyncSession, top: LedgerHead, new: NewEntry, *, created_by: str, request_id: str
) -> LedgerEntry:
    created_at = datetime.now(UTC)
    published = rules.fields(
        contract_id=new.contract_id, seq=top.last_seq + 1, entry_type=new.entry_type, amount=new.amount,
        violation_id=new.violation_id, appeal_id=new.appeal_id, payment_ref=new.payment_ref,
        period=new.period, created_at=created_at, created_by=created_by, request_id=request_id,
        prev_hash=top.last_hash,
    )  # fmt: skip
    entry = LedgerEntry(
        contract_id=new.contract_id, seq=top.last_seq + 1, entry_type=new.entry_type, amount=new.amount,
        violation_id=new.violation_id, appeal_id=new.appeal_id, payment_ref=new.payment_ref,
        period=new.period, created_at=created_at, created_by=created_by, request_id=request_id,
        prev_hash=top.last_hash, hash=rules.entry_hash(published),
    )  # fmt: skip
    session.add(entry)
    top.last_seq, top.last_hash = entry.seq, entry.hash
    if new.entry_type == "deduction":
        top.deducted += new.amount
    elif new.entry_type == "reversal":
        top.reversed += new.amount
    else:
        top.settled += new.amount
    await session.flush()
    return entry


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


async def chain(session: AsyncSession, contract_ids: Sequence[int]) -> AsyncIterator[Row[Any]]:
    """Every entry of these contracts, by contract then seq, streamed as plain rows (a province holds
    many; ORM objects cost several times more per entry to verify)."""
    if not contract_ids:
        return
    stmt = (
        select(LedgerEntry.__table__)
        .where(LedgerEntry.contract_id.in_(contract_ids))
        .order_by(LedgerEntry.contract_id, LedgerEntry.seq)
        .execution_options(yield_per=2000)
    )
    result = await session.stream(stmt)
    async for row in result:
        yield row


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
    from services.common.models import Violation

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
