"""Regions, their monthly statistics and establishment. Owner: staffing_api."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.common.models.base import Base, RegionCode


class Region(Base):
    """An administrative unit of the province, from the province down to villages (staffing_api)."""

    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]+$' AND length(code) IN (2, 4, 6, 9, 12)", name="code_format"),
        CheckConstraint(
            "(level = 'province' AND length(code) = 2) OR (level = 'prefecture' AND length(code) = 4)"
            " OR (level = 'county' AND length(code) = 6) OR (level = 'township' AND length(code) = 9)"
            " OR (level = 'village' AND length(code) = 12)",
            name="level_matches_code",
        ),
        CheckConstraint(
            "(parent_code IS NULL AND length(code) = 2) OR starts_with(code, parent_code)",
            name="parent_is_prefix",
        ),
        CheckConstraint(
            "(level = 'province' AND kind = 'province')"
            " OR (level = 'prefecture' AND kind IN ('city', 'autonomous_prefecture'))"
            " OR (level = 'county' AND kind IN ('district', 'county_city', 'county', 'autonomous_county'))"
            " OR (level = 'township' AND kind IN ('town', 'township', 'subdistrict', 'other'))"
            " OR (level = 'village' AND kind IN ('village', 'community'))",
            name="kind_matches_level",
        ),
        CheckConstraint("NOT directly_administered OR level = 'county'", name="direct_only_counties"),
        Index("ix_regions_parent_code", "parent_code"),
        Index("ix_regions_level_code", "level", "code"),
    )

    code: Mapped[str] = mapped_column(RegionCode(), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(24))
    parent_code: Mapped[str | None] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    directly_administered: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RegionStats(Base):
    """低保对象数, 特困人员数, 常住人口 of one unit for one month (staffing_api).

    Only counties, townships and villages hold figures; higher levels are sums, never stored.
    """

    __tablename__ = "region_stats"
    __table_args__ = (
        CheckConstraint("extract(day from month) = 1", name="month_is_first_day"),
        CheckConstraint(
            "dibao_recipients IS NOT NULL OR tekun_recipients IS NOT NULL OR population IS NOT NULL",
            name="some_figure",
        ),
        CheckConstraint("dibao_recipients >= 0", name="dibao_non_negative"),
        CheckConstraint("tekun_recipients >= 0", name="tekun_non_negative"),
        CheckConstraint("population >= 0", name="population_non_negative"),
        CheckConstraint("length(region_code) IN (6, 9, 12)", name="stats_level"),
    )

    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    dibao_recipients: Mapped[int | None] = mapped_column(Integer)
    tekun_recipients: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[int | None] = mapped_column(Integer)
    demo: Mapped[bool] = mapped_column(Boolean, server_default="false")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Establishment(Base):
    """编制: authorized posts of a county's social-assistance section or a township office (staffing_api)."""

    __tablename__ = "establishments"
    __table_args__ = (
        CheckConstraint("authorized_posts >= 0", name="posts_non_negative"),
        CheckConstraint("length(region_code) IN (6, 9)", name="county_or_township"),
    )

    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"), primary_key=True)
    authorized_posts: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
