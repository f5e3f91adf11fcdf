"""penalty_api: violations, the append-only deduction ledger, appeals, replacements, settlement (§七)."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.settings import Settings
from services.penalty_api.appeals.routes import router as appeals
from services.penalty_api.ledger.routes import router as ledger
from services.penalty_api.replacements.routes import router as replacements
from services.penalty_api.settlements.routes import router as settlements
from services.penalty_api.violations.routes import router as violations


def create_app(settings: Settings | None = None, database_url: str | None = None) -> FastAPI:
    return create_service_app(
        name="penalty",
        title="Jiuzhu penalty_api 违规扣减",
        description="违规、扣减台账、申诉、更换、结算 (violations, the append-only deduction ledger with "
        "its hash chains, appeals, replacement requests, settlement against payments).",
        routers=[violations, appeals, ledger, replacements, settlements],
        settings=settings,
        database_url=database_url,
    )
