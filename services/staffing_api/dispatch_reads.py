"""Reads of contract_api's tables that staffing rules need: when a dispatch is active."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, or_

from services.common.models import Contract, Dispatch

ACTIVE_CONTRACT = ("active", "suspended")


def dispatch_active_on(day: date) -> ColumnElement[bool]:
    """A dispatch is active on a day when its contract is active or suspended and
    ``start_date`` ≤ day ≤ ``end_date`` (an open end counting as ongoing). Join ``Contract`` first."""
    return and_(
        Contract.status.in_(ACTIVE_CONTRACT),
        Dispatch.start_date <= day,
        or_(Dispatch.end_date.is_(None), Dispatch.end_date >= day),
    )
