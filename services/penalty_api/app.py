"""penalty_api: violations, the append-only deduction ledger, appeals, replacements, settlement (§七)."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.settings import Settings


def create_app(settings: Settings | None = None, database_url: str | None = None) -> FastAPI:
    return create_service_app(
        name="penalty",
        title="Jiuzhu penalty_api 违规扣减",
        description="违规、扣减台账、申诉、更换、结算 (violations, deduction ledger, appeals, replacement, "
        "settlement). Endpoints arrive with the penalty issue; the frame (auth, health, errors) is here.",
        routers=[],
        settings=settings,
        database_url=database_url,
    )
