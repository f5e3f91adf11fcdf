"""The purchase before the contract (contract_api): the service catalog, needs, plans, procurement,
bids and the evaluators' sheets (notice §三(三), §三(四), §六(一))."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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


PROCUREMENT_METHODS = (
    "public_tender",
    "competitive_consultation",
    "competitive_negotiation",
    "single_source",
)
PROCUREMENT_STATUSES = ("open", "evaluated", "awarded")


class Procurement(Base):
    """采购 (§三(四), §六(一)): comprehensive scoring of bids for an approved plan."""

    __tablename__ = "procurements"
    __table_args__ = (
        CheckConstraint("method IN " + str(PROCUREMENT_METHODS), name="method"),
        CheckConstraint("status IN " + str(PROCUREMENT_STATUSES), name="status"),
        CheckConstraint("price_weight BETWEEN 0.10 AND 0.30", name="price_weight_range"),
        CheckConstraint("budget_ceiling > 0", name="ceiling_positive"),
        CheckConstraint("length(county_code) = 6", name="county_level"),
        Index("ix_procurements_county_code", "county_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    plan_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("purchase_plans.id"))
    county_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    method: Mapped[str] = mapped_column(String(30))
    price_weight: Mapped[Decimal] = mapped_column(Numeric(3, 2))
    # [{"code", "name", "weight"}] with the weights as decimal strings; price + criteria = 1.
    criteria: Mapped[list[dict[str, str]]] = mapped_column(JSONB)
    budget_ceiling: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    bid_deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12), server_default="open")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Bid(Base):
    """投标 (响应): one per contractor and procurement, with its scores once evaluated."""

    __tablename__ = "bids"
    __table_args__ = (
        UniqueConstraint("procurement_id", "contractor_id", name="uq_bids_one_per_contractor"),
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("explanation_accepted IS NULL OR explanation IS NOT NULL", name="accepted_has_text"),
        Index("ix_bids_procurement_id", "procurement_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    procurement_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("procurements.id"))
    contractor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("contractors.id"))
    price: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    # Shell-company flags as of the bid deadline (§六(一)); a flagged winner needs a risk review.
    risk_flags: Mapped[list[str]] = mapped_column(JSONB)
    risk_review: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    explanation_accepted: Mapped[bool | None] = mapped_column(Boolean)
    price_score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    quality_score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    total: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    rank: Mapped[int | None] = mapped_column(Integer)
    abnormally_low: Mapped[bool | None] = mapped_column(Boolean)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BidScore(Base):
    """One evaluator's sheet for one bid (评审专家评分表): criterion code → 0–100."""

    __tablename__ = "bid_scores"
    __table_args__ = (UniqueConstraint("bid_id", "evaluator", name="uq_bid_scores_one_per_evaluator"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    bid_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("bids.id"))
    evaluator: Mapped[str] = mapped_column(String(100))
    scores: Mapped[dict[str, str]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
