"""The deduction ledger's arithmetic and its hash (penalties.md *The ledger*). Pure functions.

One hash chain per contract. An entry's hash is

    sha256(prev_hash + canonical_json(fields)).hexdigest()

over exactly the fields of ``HASHED`` — absent ones as null, ids as strings, ``seq`` an integer, money
its two-decimal string, ``created_at`` UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` — with sorted keys, no
whitespace and UTF-8 (Chinese unescaped). The first entry's ``prev_hash`` is 64 zeros. This is the one
place the encoding is written: the writer, both verify endpoints and the entries endpoint use it, so an
auditor can recompute every hash outside the system from what the entries endpoint returns.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

GENESIS = "0" * 64
HASHED = (
    "contract_id", "seq", "entry_type", "amount", "violation_id", "appeal_id", "payment_ref", "period",
    "created_at", "created_by", "request_id", "prev_hash",
)  # fmt: skip
ZERO = Decimal("0.00")


def timestamp(at: datetime) -> str:
    """UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (``isoformat`` is the fast way to write exactly that)."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _id(value: int | None) -> str | None:
    return None if value is None else str(value)


def fields(
    *, contract_id: int, seq: int, entry_type: str, amount: Decimal, violation_id: int | None,
    appeal_id: int | None, payment_ref: str | None, period: str | None, created_at: datetime,
    created_by: str, request_id: str, prev_hash: str,
) -> dict[str, Any]:  # fmt: skip
    """An entry's hashed fields in their published form."""
    return {
        "contract_id": str(contract_id),
        "seq": seq,
        "entry_type": entry_type,
        "amount": f"{amount:.2f}",
        "violation_id": _id(violation_id),
        "appeal_id": _id(appeal_id),
        "payment_ref": payment_ref,
        "period": period,
        "created_at": timestamp(created_at),
        "created_by": created_by,
        "request_id": request_id,
        "prev_hash": prev_hash,
    }


def canonical(published: dict[str, Any]) -> str:
    return json.dumps(
        {k: published[k] for k in HASHED}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def entry_hash(published: dict[str, Any]) -> str:
    return hashlib.sha256((published["prev_hash"] + canonical(published)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Balance:
    deducted: Decimal
    reversed: Decimal
    settled: Decimal

    @property
    def net(self) -> Decimal:
        return self.deducted - self.reversed - self.settled

    @property
    def outstanding(self) -> Decimal:
        return max(ZERO, self.net)

    @property
    def credit(self) -> Decimal:
        return max(ZERO, -self.net)


@dataclass(frozen=True)
class SettlementFigures:
    entry_amount: Decimal  # positive applies deductions, negative repays a credit, zero neither
    deductions_applied: Decimal
    credit_repaid: Decimal
    net_amount: Decimal
    carried_forward: Decimal  # what is still owed after this payment


def settle(balance: Balance, gross: Decimal) -> SettlementFigures:
    """A payment absorbs what is owed up to its gross amount, or pays back a credit in full."""
    if balance.outstanding > 0:
        applied = min(balance.outstanding, gross)
        return SettlementFigures(applied, applied, ZERO, gross - applied, balance.outstanding - applied)
    repaid = balance.credit
    return SettlementFigures(-repaid, ZERO, repaid, gross + repaid, ZERO)
