"""Shared infrastructure tables every service writes for its own requests: audit, events, idempotency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.models.base import Base, RegionCode


class AuditEvent(Base):
    """Append-only record of every write: who, when, what, under which request id."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_region_id", "region", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    service: Mapped[str] = mapped_column(String(20))
    sub: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(40))
    resource: Mapped[str] = mapped_column(String(60))
    resource_id: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(RegionCode())
    request_id: Mapped[str] = mapped_column(String(64))


class Event(Base):
    """Change feed for inter-agency exchange. An id is its transaction's id and its position in it
    (``changes.py``): readers are served only ids below every transaction still in flight, so a
    reader that saw id N never later sees an id below N."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_region_id", "region", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(60))
    resource: Mapped[str] = mapped_column(String(60))
    resource_id: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(RegionCode())
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)


class IdempotencyKey(Base):
    """One ``Idempotency-Key`` per service + caller + method + route; the stored answer is replayed."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("service", "sub", "method", "route", "key", name="uq_idempotency_scope"),
        CheckConstraint("state IN ('in_progress', 'completed')", name="state"),
        CheckConstraint(
            "state = 'in_progress' OR response_status IS NOT NULL", name="completed_has_response"
        ),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    service: Mapped[str] = mapped_column(String(20))
    sub: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    route: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RevokedToken(Base):
    """Deny-list of token ids (``jti``) until their ``exp``. Owner: gateway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(100), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
