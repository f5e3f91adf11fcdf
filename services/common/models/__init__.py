"""Every table of the shared database, imported here so Alembic sees the whole metadata."""

from services.common.models.base import Base
from services.common.models.contracts import (
    Contract,
    Contractor,
    Debarment,
    Dispatch,
    Payment,
    PayrollRecord,
)
from services.common.models.funds import (
    Allocation,
    AllocationLine,
    Evaluation,
    Expenditure,
    IndicatorSystem,
    SatisfactionSurvey,
)
from services.common.models.gateway import LoginAttempt, ServiceClient, User
from services.common.models.infra import AuditEvent, Event, IdempotencyKey, RevokedToken
from services.common.models.penalties import (
    Appeal,
    LedgerEntry,
    LedgerHead,
    ReplacementRequest,
    Settlement,
    Violation,
)
from services.common.models.purchasing import (
    Bid,
    BidScore,
    CatalogItem,
    Procurement,
    PurchaseNeed,
    PurchaseNeedItem,
    PurchasePlan,
)
from services.common.models.regions import Establishment, Region, RegionStats
from services.common.models.staffing import (
    Duty,
    EstablishmentPost,
    Person,
    StaffingRuleSet,
    Task,
    WorkLog,
)

__all__ = [
    "Allocation",
    "AllocationLine",
    "Appeal",
    "AuditEvent",
    "Base",
    "Bid",
    "BidScore",
    "CatalogItem",
    "Contract",
    "Contractor",
    "Debarment",
    "Dispatch",
    "Duty",
    "Establishment",
    "EstablishmentPost",
    "Evaluation",
    "Event",
    "Expenditure",
    "IdempotencyKey",
    "IndicatorSystem",
    "LedgerEntry",
    "LedgerHead",
    "LoginAttempt",
    "Payment",
    "PayrollRecord",
    "Person",
    "Procurement",
    "PurchaseNeed",
    "PurchaseNeedItem",
    "PurchasePlan",
    "Region",
    "RegionStats",
    "ReplacementRequest",
    "RevokedToken",
    "SatisfactionSurvey",
    "ServiceClient",
    "Settlement",
    "StaffingRuleSet",
    "Task",
    "User",
    "Violation",
    "WorkLog",
]
