"""A well-formed request for every write, aimed at the world's objects in 五华区.

Bodies must pass validation: an out-of-scope write is refused by its scope check, which runs after
FastAPI has validated the body, so a malformed body would answer 422 before scope was ever asked."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tests.authz.world import COUNTY, TOWNSHIP, VILLAGE, Objects
from tests.conftest import business_day
from tests.contracts.conftest import DECLARED
from tests.contracts.test_procurement import _procurement_body
from tests.funds.conftest import WEIGHTS
from tests.penalties.conftest import FOUND

Body = Callable[[Objects], dict[str, Any]]


def _rule_parameters(o: Objects) -> dict[str, Any]:
    return dict(o.extra["rule_parameters"])


def _csv(_: Objects) -> bytes:
    header = "region_code,month,dibao_recipients,tekun_recipients,population"
    return f"{header}\n{VILLAGE},2026-02,10,1,900\n".encode()


def _log(o: Objects) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "dispatch_id": o.extra["dispatch"],
        "duty_code": "application_assistance",
        "date": str(business_day()),
        "program": "dibao",
        "quantity": 1,
    }


JSON: dict[tuple[str, str], Body] = {
    ("POST", "/api/v1/regions"): lambda _: {"code": "530102001099", "name": "测试社区", "kind": "community"},
    ("PUT", "/api/v1/regions/{code}/stats/{month}"): lambda _: {
        "dibao_recipients": 120,
        "tekun_recipients": 8,
    },
    ("PUT", "/api/v1/regions/{code}/establishment"): lambda _: {"authorized_posts": 3},
    ("POST", "/api/v1/staffing-rule-sets"): lambda o: {
        "name": "测试规则",
        "document": "云民发〔2019〕1号",
        "effective_from": "2031-01-01",
        "parameters": _rule_parameters(o),
    },
    ("POST", "/api/v1/quotas/compute"): lambda _: {"level": "village", "population": 4000},
    ("POST", "/api/v1/quota-simulations"): lambda o: {"parameters": _rule_parameters(o), "region": COUNTY},
    ("POST", "/api/v1/persons"): lambda _: {
        "name": "新协理员",
        "id_number": "530627200802290058",
        "region_code": VILLAGE,
        "education": "senior_high",
    },
    ("POST", "/api/v1/establishment-posts"): lambda o: {
        "person_id": o.extra["post_person"],
        "region_code": COUNTY,
        "since": "2021-01-01",
    },
    ("POST", "/api/v1/establishment-posts/{post_id}/end"): lambda _: {"until": str(business_day())},
    ("POST", "/api/v1/assistant-eligibility"): lambda o: {
        "person_id": o.worker,
        "education": "senior_high",
        "health_confirmed": True,
        "law_abiding_confirmed": True,
        "has_other_job": False,
        "on_date": str(business_day()),
    },
    ("POST", "/api/v1/tasks"): lambda o: {
        "dispatch_id": o.extra["dispatch"],
        "duty_code": "application_assistance",
        "due_date": str(business_day() + timedelta(days=3)),
        "description": "复核",
    },
    ("POST", "/api/v1/work-logs"): _log,
    ("POST", "/api/v1/work-logs/batch"): lambda o: {"items": [_log(o)]},
    ("POST", "/api/v1/contractors"): lambda _: {
        "name": "新承接主体",
        "uscc": "915301027777777756",
        "org_type": "enterprise",
        "registration_authority": "market_regulation",
        "registered_on": "2019-01-01",
        "employees": 5,
        "social_insurance_enrollees": 5,
        "region_code": COUNTY,
    },
    ("POST", "/api/v1/service-catalog"): lambda _: {
        "code": "matrix_item",
        "name_zh": "测试项目",
        "name_en": "Test item",
        "purchasable": True,
    },
    ("POST", "/api/v1/purchase-needs"): lambda _: {
        "region_code": TOWNSHIP,
        "year": 2028,
        "justification": "补充需求",
        "items": [
            {
                "catalog_code": "village_assistance_services",
                "quantity": 12,
                "unit": "person_month",
                "posting_level": "village",
                "estimated_amount": "30000.00",
            }
        ],
    },
    ("POST", "/api/v1/purchase-needs/{need_id}/return"): lambda _: {"reason": "请补充测算依据"},
    ("POST", "/api/v1/purchase-plans"): lambda o: {
        "county_code": COUNTY,
        "year": 2028,
        "need_ids": [int(o.params["need_id"])],
        "funding_source": "provincial_special_subsidy",
    },
    ("POST", "/api/v1/purchase-plans/{plan_id}/approve"): lambda _: {},
    ("POST", "/api/v1/purchase-plans/{plan_id}/reject"): lambda _: {"reason": "预算不足"},
    ("POST", "/api/v1/procurements"): lambda o: _procurement_body(o.extra["plan"]),
    ("POST", "/api/v1/procurements/{procurement_id}/bids"): lambda _: {"price": "800000.00"},
    ("POST", "/api/v1/procurements/{procurement_id}/bids/{bid_id}/scores"): lambda _: {
        "evaluator": "专家乙",
        "scores": {"service_plan": "80", "staff_quality": "80", "experience": "80"},
    },
    ("POST", "/api/v1/procurements/{procurement_id}/bids/{bid_id}/risk-review"): lambda _: {
        "review": "报价合理"
    },
    ("POST", "/api/v1/procurements/{procurement_id}/bids/{bid_id}/explanation"): lambda _: {
        "text": "成本构成说明",
        "accepted": True,
    },
    ("POST", "/api/v1/procurements/{procurement_id}/award"): lambda _: {},
    ("PATCH", "/api/v1/contracts/{contract_id}"): lambda _: {"payment_schedule": "quarterly"},
    ("POST", "/api/v1/contracts/{contract_id}/work-plan"): lambda _: {"work_plan": "按月走访"},
    ("POST", "/api/v1/contracts/{contract_id}/takeover"): lambda _: {
        "unit": "五华区民政局",
        "reason": "停止服务",
    },
    ("POST", "/api/v1/contracts/{contract_id}/terminate"): lambda _: {"reason": "未履约", "serious": False},
    ("POST", "/api/v1/dispatches"): lambda o: {
        "contract_id": int(o.params["contract_id"]),
        "person_id": o.other_worker,
        "posting_level": "village",
        "region_code": VILLAGE,
        "monthly_wage": "2850.00",
        "start_date": "2026-01-01",
        "labor_contract_signed_on": "2025-12-20",
        "declarations": DECLARED,
    },
    ("POST", "/api/v1/dispatches/{dispatch_id}/end"): lambda _: {
        "end_date": str(business_day()),
        "reason": "resigned",
    },
    ("PUT", "/api/v1/dispatches/{dispatch_id}/payroll/{month}"): lambda _: {
        "gross_wage": "2850.00",
        "paid_on": "2026-02-05",
        "social_insurance_paid": True,
    },
    ("POST", "/api/v1/contracts/{contract_id}/payments"): lambda _: {
        "period": "2026-02",
        "gross_amount": "1000.00",
    },
    ("POST", "/api/v1/allocations"): lambda _: {
        "year": 2027,
        "total_amount": "50000.00",
        "weights": WEIGHTS,
        "units": ["5301"],
    },
    ("POST", "/api/v1/expenditures"): lambda o: {
        "allocation_line_id": o.extra["line"],
        "amount": "10.00",
        "category": "service_purchase",
        "contract_id": int(o.params["contract_id"]),
        "spent_on": str(business_day()),
        "description": "服务费",
    },
    ("POST", "/api/v1/indicator-systems"): lambda _: {
        "name": "另一评价体系",
        "year": 2027,
        "indicators": [{"code": "quality", "name": "服务质量", "weight": "1", "source": "manual"}],
    },
    ("POST", "/api/v1/evaluations"): lambda o: {
        "contract_id": int(o.params["contract_id"]),
        "period": "2026-Q2",
        "indicator_system_id": o.extra["system"],
        "manual_scores": {"quality": "70"},
    },
    ("POST", "/api/v1/satisfaction-surveys"): lambda o: {
        "region_code": VILLAGE,
        "contract_id": int(o.params["contract_id"]),
        "score": 5,
        "channel": "phone",
    },
    ("POST", "/api/v1/violations"): lambda o: {"dispatch_id": o.extra["dispatch"], **FOUND},
    ("POST", "/api/v1/violations/{violation_id}/confirm"): lambda _: {"multiplier": "1"},
    ("POST", "/api/v1/violations/{violation_id}/dismiss"): lambda _: {"reason": "证据不足"},
    ("POST", "/api/v1/violations/{violation_id}/appeals"): lambda _: {"grounds": "系统故障"},
    ("POST", "/api/v1/appeals/{appeal_id}/decide"): lambda _: {"outcome": "rejected", "reason": "证据充分"},
    ("POST", "/api/v1/replacement-requests"): lambda o: {
        "dispatch_id": o.extra["dispatch"],
        "reason": "缺岗",
    },
    ("POST", "/api/v1/replacement-requests/{request_id}/fulfil"): lambda o: {
        "new_dispatch_id": o.extra["second_dispatch"]
    },
    ("POST", "/api/v1/settlements"): lambda o: {
        "contract_id": int(o.params["contract_id"]),
        "period": "2026-04",
        "gross_amount": "100.00",
        "payment_ref": f"matrix-{uuid.uuid4()}",
    },
}
FILES: dict[tuple[str, str], Callable[[Objects], bytes]] = {
    ("POST", "/api/v1/region-stats/import"): _csv,
}
QUERY: dict[tuple[str, str], Callable[[Objects], dict[str, str]]] = {
    ("GET", "/api/v1/fund-execution"): lambda _: {"year": "2026"},
    ("GET", "/api/v1/region-stats"): lambda _: {"level": "village", "month": "2026-01"},
    ("GET", "/api/v1/satisfaction-surveys/rate"): lambda o: {"contract_id": o.params["contract_id"]},
}
