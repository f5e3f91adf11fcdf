"""contract_api: contractors, needs → plans → procurement → contracts, dispatch, funds.

Notice §三, §五, §六.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.common.app import create_service_app
from services.common.settings import Settings
from services.contract_api.catalog.routes import router as catalog
from services.contract_api.contractors.routes import router as contractors
from services.contract_api.contracts.routes import router as contracts
from services.contract_api.dispatches.routes import router as dispatches
from services.contract_api.evaluations.routes import router as evaluations
from services.contract_api.funds.routes import router as funds
from services.contract_api.needs.routes import router as needs
from services.contract_api.payments.routes import router as payments
from services.contract_api.payroll.routes import router as payroll
from services.contract_api.plans.routes import router as plans
from services.contract_api.procurement.routes import router as procurement
from services.contract_api.public.routes import router as public


def create_app(settings: Settings | None = None, database_url: str | None = None) -> FastAPI:
    return create_service_app(
        name="contract",
        title="Jiuzhu contract_api 购买服务合同",
        description="承接主体、采购、合同、派遣、资金 "
        "(contractors, procurement, contracts, dispatch, funds). "
        "Performance evaluation and satisfaction (§七, §一).",
        routers=[
            contractors,
            catalog,
            needs,
            plans,
            procurement,
            contracts,
            dispatches,
            payroll,
            payments,
            funds,
            evaluations,
            public,
        ],
        settings=settings,
        database_url=database_url,
    )
