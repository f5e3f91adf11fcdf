"""Funds (因素法 allocations, their lines, expenditures) and performance (indicator systems, evaluations,
satisfaction surveys). Owner: contract_api (notice §五 经费保障, §七 绩效评价).

An allocation line's ``spent`` is the one hot row of the funds: an expenditure raises it with a single
conditional ``UPDATE … WHERE spent + amount <= amount`` just before COMMIT (see
``services.common.transaction``'s rule for hot rows), and the ``CHECK`` below holds the balance non-negative
whatever the application does.
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
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.models.base import Base, RegionCode

ALLOCATION_STATUSES = ("draft", "approved", "published")
# Every category an expenditure may name; §五 forbids the last four (三公经费, 工作经费, 设备购置, 工程建设).
EXPENDITURE_CATEGORIES = (
    "service_purchase",
    "three_public_costs",
    "working_funds",
    "equipment",
    "construction",
)
SURVEY_CHANNELS = ("phone", "visit", "online", "paper")  # 电话回访, 入户, 网上, 纸质问卷
GRADES = ("excellent", "good", "pass", "fail")
PERIOD = r"^\d{4}(-Q[1-4])?$"
# The grade follows from the total at the thresholds of contracts.md, and the database holds them to it.
GRADE_OF_TOTAL = (
    "grade = CASE WHEN total >= 90 THEN 'excellent' WHEN total >= 80 THEN 'good'"
    " WHEN total >= 60 THEN 'pass' ELSE 'fail' END"
)


class Allocation(Base):
    """因素法 allocation of one level's funds: the province's to the prefectures and the three directly
    administered counties, or a prefecture's re-allocation of its line (plus own funds) to its counties."""

    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("status IN " + str(ALLOCATION_STATUSES), name="status"),
        CheckConstraint("total_amount > 0", name="total_positive"),
        CheckConstraint("own_funds >= 0", name="own_funds_non_negative"),
        CheckConstraint("length(region_code) IN (2, 4)", name="province_or_prefecture"),
        CheckConstraint(
            "(parent_line_id IS NULL) = (length(region_code) = 2)", name="prefectures_reallocate"
        ),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint("status = 'draft' OR approved_by IS NOT NULL", name="approved_has_approver"),
        CheckConstraint("status <> 'published' OR published_at IS NOT NULL", name="published_has_time"),
        UniqueConstraint("parent_line_id"),  # a prefecture re-allocates its line once
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))  # who allocates
    # use_alter: lines belong to allocations and a re-allocation to a line, so this key comes last.
    parent_line_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("allocation_lines.id", use_alter=True)
    )
    total_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    own_funds: Mapped[Decimal] = mapped_column(Numeric(16, 2), server_default="0")  # 州县多渠道筹措
    weights: Mapped[dict[str, str]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(10), server_default="draft")
    created_by: Mapped[str] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AllocationLine(Base):
    """One unit's result: the factor values used, its share and amount — what is spent against."""

    __tablename__ = "allocation_lines"
    __table_args__ = (
        UniqueConstraint("allocation_id", "region_code"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        CheckConstraint("share BETWEEN 0 AND 1", name="share_range"),
        CheckConstraint("spent >= 0 AND spent <= amount", name="balance_non_negative"),
        Index("ix_allocation_lines_region_code", "region_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    allocation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("allocations.id"))
    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    factors: Mapped[dict[str, str]] = mapped_column(JSONB)  # factor → the value used, as a decimal string
    share: Mapped[Decimal] = mapped_column(Numeric(8, 6))  # as published; the amount comes from the exact one
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    spent: Mapped[Decimal] = mapped_column(Numeric(16, 2), server_default="0")


class Expenditure(Base):
    """支出 against an allocation line, by the county that holds it (§五 专款专用)."""

    __tablename__ = "expenditures"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("category = 'service_purchase'", name="category_spendable"),
        CheckConstraint(
            "category <> 'service_purchase' OR contract_id IS NOT NULL", name="purchase_has_contract"
        ),
        CheckConstraint("payment_id IS NULL OR contract_id IS NOT NULL", name="payment_has_contract"),
        CheckConstraint("length(region_code) = 6", name="county_level"),
        UniqueConstraint("payment_id"),  # a payment is booked against the funds once
        Index("ix_expenditures_allocation_line_id", "allocation_line_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    allocation_line_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("allocation_lines.id"))
    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    category: Mapped[str] = mapped_column(String(24))
    contract_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("contracts.id"))
    payment_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("payments.id"))
    spent_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IndicatorSystem(Base):
    """绩效评价指标体系: indicators with weights summing to 1, manual or computed from the data (§七)."""

    __tablename__ = "indicator_systems"
    __table_args__ = (CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(SmallInteger)
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Evaluation(Base):
    """One contract's evaluation for one period (a year or a quarter); one per contract and period."""

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("contract_id", "period"),
        CheckConstraint(f"period ~ '{PERIOD}'", name="period_format"),
        CheckConstraint("total BETWEEN 0 AND 100", name="total_range"),
        CheckConstraint(GRADE_OF_TOTAL, name="grade_of_total"),
        CheckConstraint("length(region_code) = 6", name="county_level"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    contract_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contracts.id"))
    region_code: Mapped[str] = mapped_column(
        RegionCode(), ForeignKey("regions.code")
    )  # the contract's county
    period: Mapped[str] = mapped_column(String(7))
    indicator_system_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("indicator_systems.id"))
    scores: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # [{code, source, value?, score}]
    total: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    grade: Mapped[str] = mapped_column(String(10))
    termination_recommended: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SatisfactionSurvey(Base):
    """困难群众满意度: one answer (1–5) about the service in a region, and the contract if known (§一)."""

    __tablename__ = "satisfaction_surveys"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
        CheckConstraint("channel IN " + str(SURVEY_CHANNELS), name="channel"),
        CheckConstraint("length(region_code) IN (6, 9, 12)", name="county_or_below"),
        Index("ix_satisfaction_surveys_region_code", "region_code"),
        Index("ix_satisfaction_surveys_contract_id", "contract_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    contract_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("contracts.id"))
    score: Mapped[int] = mapped_column(SmallInteger)
    channel: Mapped[str] = mapped_column(String(12))
    comment: Mapped[str | None] = mapped_column(Text)
    surveyed_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
