"""Contractors, debarments, contracts, dispatches and payroll records. Owner: contract_api
(staffing_api reads contracts and dispatches for quotas, eligibility and work logs).
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
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, ExcludeConstraint
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

# From `sign` on a contract has its signing day (one terminated before signing has none).
SIGNED_HAS_DATE = (
    "signed_on IS NOT NULL OR status NOT IN "
    "('signed', 'filed', 'acknowledged', 'active', 'suspended', 'completed')"
)

ORG_TYPES = (
    "social_organization",
    "public_institution",
    "enterprise",
    "other_institution",
    "government_body",
)
REGISTRATION_AUTHORITIES = (
    "civil_affairs",
    "state_council_exempt",
    "market_regulation",
    "industry_authority",
    "establishment_office",
    "other",
)
PUBLIC_INSTITUTION_CATEGORIES = (
    "public_welfare_1",
    "public_welfare_2",
    "production_operation",
    "administrative",
)


class Contractor(Base):
    """承接主体: an organisation that may be hired to supply the services (§三(二))."""

    __tablename__ = "contractors"
    __table_args__ = (
        UniqueConstraint("uscc", name="uq_contractors_uscc"),
        CheckConstraint("uscc ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'", name="uscc_shape"),
        CheckConstraint("org_type IN " + str(ORG_TYPES), name="org_type"),
        CheckConstraint("registration_authority IN " + str(REGISTRATION_AUTHORITIES), name="authority"),
        CheckConstraint(
            "(org_type = 'public_institution') = (public_institution_category IS NOT NULL)"
            " AND (public_institution_category IS NULL OR public_institution_category IN "
            + str(PUBLIC_INSTITUTION_CATEGORIES)
            + ")",
            name="category_only_for_public_institutions",
        ),
        CheckConstraint("employees >= 0 AND social_insurance_enrollees >= 0", name="counts_non_negative"),
        CheckConstraint("length(region_code) >= 6", name="county_or_below"),
        Index("ix_contractors_region_code", "region_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18))
    org_type: Mapped[str] = mapped_column(String(24))
    registration_authority: Mapped[str] = mapped_column(String(24))
    registered_on: Mapped[date] = mapped_column(Date)
    public_institution_category: Mapped[str | None] = mapped_column(String(24))
    employees: Mapped[int] = mapped_column(Integer)
    social_insurance_enrollees: Mapped[int] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(300))
    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Debarment(Base):
    """禁止参与 (§六(二)): a contractor barred from bidding, award and signing after a serious
    termination; in force while the business date is before ``until``."""

    __tablename__ = "debarments"
    __table_args__ = (
        CheckConstraint("until > since", name="period_order"),
        Index("ix_debarments_contractor_id", "contractor_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    contractor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contractors.id"))
    contract_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("contracts.id"))
    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    reason: Mapped[str] = mapped_column(Text)
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Contract(Base):
    """A county's purchase contract with a contractor (contract_api)."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("status IN " + str(CONTRACT_STATUSES), name="status"),
        CheckConstraint("end_date >= start_date", name="term_order"),
        CheckConstraint(
            "status = 'draft' OR (start_date IS NOT NULL AND end_date IS NOT NULL)", name="term_after_draft"
        ),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        CheckConstraint(
            "payment_schedule IS NULL OR payment_schedule IN ('monthly', 'quarterly')",
            name="payment_schedule",
        ),
        CheckConstraint("length(county_code) = 6", name="county_level"),
        CheckConstraint(SIGNED_HAS_DATE, name="signed_has_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    county_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    contractor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contractors.id"))
    status: Mapped[str] = mapped_column(String(20), server_default="draft")
    # A draft made by an award has no term yet; from `authorize` on it must (the lifecycle sets it).
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    procurement_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("procurements.id"))
    bid_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("bids.id"))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    # [{"posting_level", "region_code", "count", "monthly_wage", "subsidy_standard"?}], money as strings
    posts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    payment_schedule: Mapped[str | None] = mapped_column(String(12))
    takeover_plan: Mapped[dict[str, str] | None] = mapped_column(
        JSONB
    )  # 临时接管预案 {unit, contact, summary}
    work_plan: Mapped[str | None] = mapped_column(Text)  # 工作方案, filed by the contractor
    signed_on: Mapped[date | None] = mapped_column(Date)  # the business day of `sign` (disclosure's year)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))  # 备案: who acknowledged it
    takeover: Mapped[dict[str, str] | None] = mapped_column(JSONB)  # the takeover in force while suspended
    termination: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # {reason, serious, on}
    # Two failed evaluations in consecutive periods (§七; contracts.md *Performance evaluation*).
    termination_recommended: Mapped[bool] = mapped_column(Boolean, server_default="false")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
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
        # One dispatch at a time per person (§二(二) 专职): no two periods of one person overlap. The
        # person id as a one-point range keeps this within core GiST (no btree_gist extension).
        ExcludeConstraint(
            (text("int8range(person_id, person_id, '[]')"), "&&"),
            (text("daterange(start_date, end_date, '[]')"), "&&"),
            name="one_dispatch_at_a_time",
            using="gist",
        ),
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


class PayrollRecord(Base):
    """A month's wage and social insurance for one dispatch (§六(二) 按月发放薪酬并办理社会保险)."""

    __tablename__ = "payroll_records"
    __table_args__ = (
        UniqueConstraint("dispatch_id", "month", name="uq_payroll_records_one_per_month"),
        CheckConstraint("extract(day FROM month) = 1", name="month_first_day"),
        CheckConstraint("gross_wage >= 0", name="wage_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("dispatches.id"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month paid for
    gross_wage: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    paid_on: Mapped[date] = mapped_column(Date)
    social_insurance_paid: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Payment(Base):
    """A payment to the contractor for a period, net of the deductions penalty_api settles against it.

    Written in two steps around the HTTP call to penalty_api (``contract_api/payments``): ``pending``
    with its ``payment_ref`` first, ``completed`` with the settlement's figures after."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("payment_ref", name="uq_payments_payment_ref"),
        UniqueConstraint("contract_id", "period", name="uq_payments_contract_period"),
        CheckConstraint("status IN ('pending', 'completed')", name="status"),
        CheckConstraint("gross_amount > 0", name="gross_positive"),
        CheckConstraint(
            "(status = 'completed') = (net_amount IS NOT NULL AND deductions_applied IS NOT NULL"
            " AND credit_repaid IS NOT NULL AND completed_at IS NOT NULL)",
            name="completed_has_figures",
        ),
        CheckConstraint(
            "net_amount IS NULL OR net_amount = gross_amount - deductions_applied + credit_repaid",
            name="net_from_figures",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    contract_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contracts.id"))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM or YYYY-Qn
    gross_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    payment_ref: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    deductions_applied: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    credit_repaid: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    net_amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
