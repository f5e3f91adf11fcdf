"""staffing_api: regions, quotas, rosters, assistants, duties, work logs (notice §一, §二, §四)."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.settings import Settings
from services.staffing_api import feed
from services.staffing_api.persons import routes as persons
from services.staffing_api.quotas import routes as quotas
from services.staffing_api.quotas import simulations
from services.staffing_api.regions import routes as regions
from services.staffing_api.work import routes as work


def create_app(settings: Settings | None = None, database_url: str | None = None) -> FastAPI:
    return create_service_app(
        name="staffing",
        title="Jiuzhu staffing_api 社会救助人员配备",
        description="区划、统计、编制、变更事件与审计 "
        "(regions, statistics, establishment, change feed, audit). "
        "Rules from the 2019 Yunnan notice §一, §二, §四.",
        routers=[regions.router, quotas.router, simulations.router, persons.router, work.router, feed.router],
        settings=settings,
        database_url=database_url,
    )
