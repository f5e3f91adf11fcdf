"""Violations, the append-only deduction ledger, appeals, replacement requests and settlements.
Owner: penalty_api (contract_api's payments call it over HTTP).

The ledger is append-only in the database itself: the services' role may only SELECT and INSERT on
``ledger_entries``, and ``ENABLE ALWAYS`` triggers refuse UPDATE, DELETE and TRUNCATE even for the
owner (migration 0013).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.models.base import Base, RegionCode

VIOLATION_KINDS = ("falsification", "carelessness", "improper_operation")
VIOLATION_STATUSES = ("reported", "confirmed", "dismissed", "overturned")
ENTRY_TYPES = ("deduction", "reversal", "settlement")
# What each kind of entry refers to: a deduction its violation, a reversal the violation and the appeal
# that overturned it, a settlement the payment (and its period).
REFS_BY_TYPE = (
    "(entry_type = 'deduction' AND violation_id IS NOT NULL AND appeal_id IS NULL AND payment_ref IS NULL"
    " AND period IS NULL)"
    " OR (entry_type = 'reversal' AND violation_id IS NOT NULL AND appeal_id IS NOT NULL"
    " AND payment_ref IS NULL AND period IS NULL)"
    " OR (entry_type = 'settlement' AND violation_id IS NULL AND appeal_id IS NULL"
    " AND payment_ref IS NOT NULL AND period IS NOT NULL)"
)


class Violation(Base):
    """违规: one finding against a dispatched worker (§六(二) 弄虚作假、马虎草率、违规操作)."""

    __tablename__ = "violations"
    __table_args__ = (
        CheckConstraint("kind IN " + str(VIOLATION_KINDS), name="kind"),
        CheckConstraint("status IN " + str(VIOLATION_STATUSES), name="status"),
        CheckConstraint("discovered_on >= occurred_on", name="discovered_after_occurred"),
        CheckConstraint("multiplier IS NULL OR multiplier BETWEEN 1.00 AND 3.00", name="multiplier_range"),
        # The inputs stay beside the result, and the database holds them to it (half-up to the fen).
        CheckConstraint("amount IS NULL OR amount = round(multiplier * base, 2)", name="amount_from_inputs"),
        CheckConstraint(
            "status IN ('reported', 'dismissed') OR (multiplier IS NOT NULL AND amount IS NOT NULL "
            "AND ledger_seq IS NOT NULL AND decided_on IS NOT NULL)",
            name="confirmed_has_deduction",
        ),
        Index("ix_violations_contract_id", "contract_id"),
        Index("ix_violations_region_code", "region_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("dispatches.id"))
    contract_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contracts.id"))
    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))  # the posting
    kind: Mapped[str] = mapped_column(String(24))
    occurred_on: Mapped[date] = mapped_column(Date)
    discovered_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    serious_social_impact: Mapped[bool] = mapped_column(Boolean, server_default="false")
    status: Mapped[str] = mapped_column(String(12))
    base: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    multiplier: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    ledger_seq: Mapped[int | None] = mapped_column(Integer)
    decided_on: Mapped[date | None] = mapped_column(Date)
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LedgerHead(Base):
    """The head of one contract's chain: the row writers serialise on (``SELECT … FOR UPDATE``)."""

    __tablename__ = "ledger_heads"
    __table_args__ = (CheckConstraint("last_seq >= 0", name="seq_not_negative"),)

    contract_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contracts.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, server_default="0")
    last_hash: Mapped[str] = mapped_column(String(64))
    deducted: Mapped[Decimal] = mapped_column(Numeric(16, 2), server_default="0")
    reversed: Mapped[Decimal] = mapped_column(Numeric(16, 2), server_default="0")
    settled: Mapped[Decimal] = mapped_column(Numeric(16, 2), server_default="0")


class LedgerEntry(Base):
    """One entry of a contract's hash chain (penalties.md *The ledger*). Never updated or deleted."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("contract_id", "seq", name="uq_ledger_entries_contract_seq"),
        CheckConstraint("entry_type IN " + str(ENTRY_TYPES), name="entry_type"),
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint("entry_type = 'settlement' OR amount > 0", name="amount_sign"),
        CheckConstraint(REFS_BY_TYPE, name="refs_by_type"),
        CheckConstraint("prev_hash ~ '^[0-9a-f]{64}$' AND hash ~ '^[0-9a-f]{64}$'", name="hash_shape"),
        Index(
            "uq_ledger_entries_deduction",
            "violation_id",
            unique=True,
            postgresql_where="entry_type = 'deduction'",
        ),
        Index(
            "uq_ledger_entries_reversal", "appeal_id", unique=True, postgresql_where="entry_type = 'reversal'"
        ),
        Index("uq_ledger_entries_payment_ref", "payment_ref", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    contract_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contracts.id"))
    seq: Mapped[int] = mapped_column(Integer)
    entry_type: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    violation_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("violations.id"))
    appeal_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("appeals.id"))
    payment_ref: Mapped[str | None] = mapped_column(String(100))
    period: Mapped[str | None] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    request_id: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Appeal(Base):
    """申诉: the contractor contests a confirmed violation within 15 days of the decision."""

    __tablename__ = "appeals"
    __table_args__ = (
        UniqueConstraint("violation_id", name="uq_appeals_violation_id"),
        CheckConstraint("status IN ('pending', 'upheld', 'rejected')", name="status"),
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided_has_time"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    violation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("violations.id"))
    contract_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contracts.id"))
    grounds: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReplacementRequest(Base):
    """更换派遣人员: the county asks the contractor to replace a dispatched worker by a due date."""

    __tablename__ = "replacement_requests"
    __table_args__ = (
        CheckConstraint("(new_dispatch_id IS NULL) = (fulfilled_at IS NULL)", name="fulfilled_has_dispatch"),
        Index("ix_replacement_requests_region_code", "region_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("dispatches.id"))
    contract_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contracts.id"))
    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    violation_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("violations.id"))
    reason: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    new_dispatch_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("dispatches.id"))
    fulfilled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Settlement(Base):
    """The answer to one ``payment_ref``, kept so a retry returns it unchanged."""

    __tablename__ = "settlements"
    __table_args__ = (CheckConstraint("gross_amount >= 0", name="gross_not_negative"),)

    payment_ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    contract_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contracts.id"))
    period: Mapped[str] = mapped_column(String(7))
    gross_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    deductions_applied: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    credit_repaid: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    net_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    carried_forward: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    ledger_seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
