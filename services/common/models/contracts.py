"""Contracts and dispatches. Owner: contract_api (staffing_api reads them for quotas and work logs).

Only the columns quotas need exist yet; the contract issue adds the rest with an expand migration.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.models.base import Base, RegionCode

CONTRACT_STATUSES = (
    "draft",
    "authorized",
    "signed",
    "filed",
    "acknowledged",
    "active",
    "suspended",
    "completed",
    "terminated",
)


class Contract(Base):
    """A county's purchase contract with a contractor (contract_api)."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("status IN " + str(CONTRACT_STATUSES), name="status"),
        CheckConstraint("end_date >= start_date", name="term_order"),
        CheckConstraint("length(county_code) = 6", name="county_level"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    county_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    contractor_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), server_default="draft")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Dispatch(Base):
    """A worker posted by a contractor under a contract (派遣, §二, §四) (contract_api)."""

    __tablename__ = "dispatches"
    __table_args__ = (
        CheckConstraint(
            "posting_level IN ('county', 'township', 'village', 'institution')", name="posting_level"
        ),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="period_order"),
        CheckConstraint(
            "end_reason IS NULL OR end_reason IN ('replaced', 'resigned', 'contract_ended', 'removed')",
            name="end_reason",
        ),
        CheckConstraint("(end_date IS NULL) = (end_reason IS NULL)", name="end_has_reason"),
        CheckConstraint("monthly_wage > 0", name="wage_positive"),
        Index("ix_dispatches_region_code", "region_code"),
        Index("ix_dispatches_person_id", "person_id"),
        Index("ix_dispatches_contract_id", "contract_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    contract_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contracts.id"))
    person_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("persons.id"))
    posting_level: Mapped[str] = mapped_column(String(12))
    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    monthly_wage: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(20))
    labor_contract_signed_on: Mapped[date] = mapped_column(Date)
    declarations: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
