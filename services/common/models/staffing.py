"""Rule sets, persons, the established roster, duties, tasks, work logs. Owner: staffing_api."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.models.base import Base, RegionCode

EDUCATION = (
    "none",
    "primary",
    "junior_high",
    "senior_high",
    "secondary_vocational",
    "junior_college",
    "bachelor",
    "postgraduate",
)


class StaffingRuleSet(Base):
    """A version of the staffing policy (§二); quotas use the one in effect at ``as_of``."""

    __tablename__ = "staffing_rule_sets"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    document: Mapped[str] = mapped_column(String(300))
    effective_from: Mapped[date] = mapped_column(Date, unique=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Person(Base):
    """A person registered for this work. The ID number is stored encrypted (AES-GCM), as a keyed
    hash for uniqueness and look-up, and masked; never in clear."""

    __tablename__ = "persons"
    __table_args__ = (
        CheckConstraint("education IN " + str(EDUCATION), name="education"),
        CheckConstraint("gender IS NULL OR gender IN ('female', 'male')", name="gender"),
        Index("ix_persons_region_code", "region_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    id_number_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    birth_date: Mapped[date] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(6))
    education: Mapped[str] = mapped_column(String(24))
    phone_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_masked: Mapped[str | None] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    created_by_org_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EstablishmentPost(Base):
    """在编在岗: a person on the established roster of a county or township."""

    __tablename__ = "establishment_posts"
    __table_args__ = (
        CheckConstraint("until IS NULL OR until >= since", name="period_order"),
        CheckConstraint("length(region_code) IN (6, 9)", name="county_or_township"),
        # One open post per person at a time.
        Index(
            "uq_establishment_posts_open_person",
            "person_id",
            unique=True,
            postgresql_where=text("until IS NULL"),
        ),
        Index("ix_establishment_posts_region_code", "region_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("persons.id"))
    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Duty(Base):
    """The duties catalog of §四 by posting level (a duty may belong to several levels)."""

    __tablename__ = "duties"
    __table_args__ = (CheckConstraint("level IN ('county', 'township', 'village')", name="level"),)

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    level: Mapped[str] = mapped_column(String(12), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


class Task(Base):
    """A task an official gives a dispatched worker, inside the worker's duties (§四)."""

    __tablename__ = "tasks"
    __table_args__ = (
        ForeignKeyConstraint(["duty_code", "duty_level"], ["duties.code", "duties.level"]),
        Index("ix_tasks_region_code", "region_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("dispatches.id"))
    duty_code: Mapped[str] = mapped_column(String(60))
    duty_level: Mapped[str] = mapped_column(String(12))
    due_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WorkLog(Base):
    """What a dispatched worker did on a day (mobile app, offline-safe by ``(dispatch_id, client_id)``)."""

    __tablename__ = "work_logs"
    __table_args__ = (
        UniqueConstraint("dispatch_id", "client_id", name="uq_work_logs_dispatch_client"),
        ForeignKeyConstraint(["duty_code", "duty_level"], ["duties.code", "duties.level"]),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint(
            "program IS NULL OR program IN ('dibao', 'tekun', 'medical', 'temporary', 'other')",
            name="program",
        ),
        Index("ix_work_logs_region_date", "region_code", "date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    dispatch_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("dispatches.id"))
    person_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("persons.id"))
    region_code: Mapped[str] = mapped_column(RegionCode(), ForeignKey("regions.code"))
    duty_code: Mapped[str] = mapped_column(String(60))
    duty_level: Mapped[str] = mapped_column(String(12))
    date: Mapped[date] = mapped_column(Date)
    program: Mapped[str | None] = mapped_column(String(12))
    task_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("tasks.id"))
    household_ref: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
