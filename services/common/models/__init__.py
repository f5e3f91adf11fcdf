"""Every table of the shared database, imported here so Alembic sees the whole metadata."""

from services.common.models.base import Base
from services.common.models.gateway import LoginAttempt, ServiceClient, User
from services.common.models.infra import AuditEvent, Event, EventCounter, IdempotencyKey, RevokedToken
from services.common.models.regions import Establishment, Region, RegionStats

__all__ = [
    "AuditEvent",
    "Base",
    "Establishment",
    "Event",
    "EventCounter",
    "IdempotencyKey",
    "LoginAttempt",
    "Region",
    "RegionStats",
    "RevokedToken",
    "ServiceClient",
    "User",
]
