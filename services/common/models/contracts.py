"""Contractors, debarments, contracts and dispatches. Owner: contract_api (staffing_api reads
contracts and dispatches for quotas and work logs).

Contracts and dispatches have only the columns quotas need yet; the contract lifecycle adds the rest
with an expand migration.
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


class CatalogItem(Base):
    """服务目录: what may be bought (notice §三(三), §四), with the negative list kept beside it so
    an attempt to buy an excluded item is refused by name. Managed by the province."""

    __tablename__ = "service_catalog"
    __table_args__ = (
        CheckConstraint("code ~ '^[a-z][a-z0-9_]{1,59}$'", name="code_format"),
        CheckConstraint(
            "posting_level IS NULL OR posting_level IN ('county', 'township', 'village', 'institution')",
            name="posting_level",
        ),
        CheckConstraint("purchasable OR reason IS NOT NULL", name="excluded_has_reason"),
    )

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    posting_level: Mapped[str | None] = mapped_column(String(12))
    purchasable: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


PLAN_STATUSES = ("draft", "submitted", "approved", "rejected")
FUNDING_SOURCES = ("provincial_special_subsidy", "prefecture_funds", "county_funds")


class PurchasePlan(Base):
    """购买计划 (§三(四)): a county sums accepted needs; the county government approves it."""

    __tablename__ = "purchase_plans"
    __table_args__ = (
        CheckConstraint("status IN " + str(PLAN_STATUSES), name="status"),
        CheckConstraint("funding_source IN " + str(FUNDING_SOURCES), name="funding_source"),
        CheckConstraint("length(county_code) = 6", name="county_level"),
        CheckConstraint("year BETWEEN 2019 AND 2100", name="year_range"),
        CheckConstraint("total >= 0", name="total_non_negative"),
        CheckConstraint("(status = 'rejected') = (reject_reason IS NOT NULL)", name="rejected_has_reason"),
        Index("ix_purchase_plans_county_code", "county_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    county_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    year: Mapped[int] = mapped_column(Integer)
    funding_source: Mapped[str] = mapped_column(String(30))
    total: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    status: Mapped[str] = mapped_column(String(12), server_default="draft")
    # [{"code": "ESTABLISHMENT_VACANCIES", "units": [{"region_code", "authorized", "in_post"}]}]
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    justifications: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


NEED_STATUSES = ("draft", "submitted", "accepted", "returned")
NEED_UNITS = ("person_month", "person", "service")


class PurchaseNeed(Base):
    """购买需求 (§三(四)): a township (or the county itself) asks its county to buy services."""

    __tablename__ = "purchase_needs"
    __table_args__ = (
        CheckConstraint("status IN " + str(NEED_STATUSES), name="status"),
        CheckConstraint("length(region_code) IN (6, 9)", name="county_or_township"),
        CheckConstraint(
            "starts_with(region_code, county_code) AND length(county_code) = 6", name="county_of_region"
        ),
        CheckConstraint("year BETWEEN 2019 AND 2100", name="year_range"),
        CheckConstraint("estimated_total >= 0", name="total_non_negative"),
        CheckConstraint("(status = 'returned') = (return_reason IS NOT NULL)", name="returned_has_reason"),
        Index("ix_purchase_needs_region_code", "region_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    county_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    year: Mapped[int] = mapped_column(Integer)
    justification: Mapped[str] = mapped_column(Text)
    estimated_total: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    status: Mapped[str] = mapped_column(String(12), server_default="draft")
    return_reason: Mapped[str | None] = mapped_column(Text)
    author_sub: Mapped[str] = mapped_column(String(200))
    # The plan it went into (one at most); a rejected plan lets its needs go again.
    plan_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("purchase_plans.id"))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PurchaseNeedItem(Base):
    """One line of a need: a catalog item, how much of it, at what estimated cost."""

    __tablename__ = "purchase_need_items"
    __table_args__ = (
        CheckConstraint("unit IN " + str(NEED_UNITS), name="unit"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("estimated_amount > 0", name="amount_positive"),
        CheckConstraint(
            "posting_level IS NULL OR posting_level IN ('county', 'township', 'village', 'institution')",
            name="posting_level",
        ),
        Index("ix_purchase_need_items_need_id", "need_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    need_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("purchase_needs.id"))
    position: Mapped[int] = mapped_column(Integer)
    catalog_code: Mapped[str] = mapped_column(String(60), ForeignKey("service_catalog.code"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(12))
    posting_level: Mapped[str | None] = mapped_column(String(12))
    estimated_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))


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
