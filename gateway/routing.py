"""The routing table (gateway.md, *Routing*): path prefixes → services, matched on whole segments."""

from __future__ import annotations

from typing import Literal

Upstream = Literal["staffing", "contract", "penalty"]

_TABLE: dict[Upstream, tuple[str, ...]] = {
    "staffing": (
        "regions",
        "region-stats",
        "staffing-rule-sets",
        "quotas",
        "quota-summary",
        "quota-simulations",
        "persons",
        "establishment-posts",
        "assistant-eligibility",
        "duties",
        "tasks",
        "work-logs",
        "workload",
        "events",
        "audit-events",
    ),
    "contract": (
        "contractors",
        "service-catalog",
        "purchase-needs",
        "purchase-plans",
        "procurements",
        "contracts",
        "dispatches",
        "payroll-compliance",
        "allocations",
        "expenditures",
        "fund-execution",
        "indicator-systems",
        "evaluations",
        "satisfaction-surveys",
        "public",
    ),
    "penalty": (
        "violations",
        "ledger",
        "appeals",
        "replacement-requests",
        "deduction-summary",
        "settlements",
        "violation-summary",
    ),
}
ROUTES: dict[str, Upstream] = {segment: name for name, segments in _TABLE.items() for segment in segments}
API_PREFIX = "/api/v1/"


def resolve(path: str) -> Upstream | None:
    """The service owning ``path``: its first segment after ``/api/v1/`` must be a table entry exactly,
    so ``/quotas`` never catches ``/quota-summary``."""
    if not path.startswith(API_PREFIX):
        return None
    segment = path[len(API_PREFIX) :].split("/", 1)[0]
    return ROUTES.get(segment)


def is_public(path: str) -> bool:
    return path == "/api/v1/public" or path.startswith("/api/v1/public/")
