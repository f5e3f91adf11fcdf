"""One of everything in 五华区 (530102), made through the API the way its users make it: a region and
its stats, a person on an establishment post, a contractor with an active contract and a dispatched
worker, a task and a work log, a need, a plan, a procurement with a bid, a draft allocation of
昆明市, an indicator system and an evaluation, a violation with an appeal and a replacement request.

The authorization matrix reads and writes these objects as every role, from inside and from outside
their region, organisation or person."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import Tokens, business_day
from tests.contracts.conftest import World, make_world
from tests.contracts.test_procurement import _approved_plan, _bid, _contractor, _procurement_body
from tests.funds.conftest import ACCEPTANCE, PREFECTURE, REALLOCATION_VALUES, WEIGHTS, Funds
from tests.penalties.conftest import FOUND

COUNTY = "530102"
TOWNSHIP = "530102001"
VILLAGE = "530102001001"


@dataclass
class Objects:
    """Path parameters by name, and the principals who own what the contractor and worker own."""

    params: dict[str, str]
    contractor: int
    other_contractor: int
    worker: int
    other_worker: int
    extra: dict[str, Any] = field(default_factory=dict)


def _ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code in (200, 201), (r.request.method, r.request.url.path, r.text)
    return dict(r.json())


async def build(api: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine) -> Objects:
    """Everything through ``api`` (the gateway: every service behind one address)."""
    province = tokens.headers("province_admin", "53")
    county = tokens.headers("county_official", COUNTY)
    world: World = await make_world(api, api, tokens, engine)
    await world.population(5_000)
    worker = await world.person()
    dispatch = _ok(await world.dispatch(worker))["id"]
    other_worker = await world.person()
    second_dispatch = _ok(await world.dispatch(other_worker))["id"]
    as_worker = tokens.headers("worker", VILLAGE, sub=str(worker), org_id=str(world.contractor))

    post_person = _ok(
        await api.post(
            "/api/v1/persons",
            json={"name": "在编人员", "id_number": "530102197603150029", "region_code": COUNTY,
                  "education": "bachelor"},
            headers=county,
        )
    )["id"]  # fmt: skip
    post = _ok(
        await api.post(
            "/api/v1/establishment-posts",
            json={"person_id": post_person, "region_code": TOWNSHIP, "since": "2020-01-01"},
            headers=county,
        )
    )["id"]
    task = _ok(
        await api.post(
            "/api/v1/tasks",
            json={"dispatch_id": dispatch, "duty_code": "application_assistance",
                  "due_date": str(business_day() + timedelta(days=7)), "description": "入户核查"},
            headers=county,
        )
    )["id"]  # fmt: skip
    log = _ok(
        await api.post(
            "/api/v1/work-logs",
            json={"client_id": str(uuid.uuid4()), "dispatch_id": dispatch,
                  "duty_code": "application_assistance", "date": str(business_day()), "program": "dibao",
                  "quantity": 1},
            headers=as_worker,
        )
    )["id"]  # fmt: skip
    rule_sets = (await api.get("/api/v1/staffing-rule-sets", headers=province)).json()

    plan = await _approved_plan(api, tokens)
    need = _ok(await api.get("/api/v1/purchase-needs", headers=county))["items"][0]["id"]
    procurement = _ok(await api.post("/api/v1/procurements", json=_procurement_body(plan), headers=county))
    bid = _ok(await _bid(api, tokens, procurement["id"], world.contractor, "900000.00"))["id"]
    stranger = await _contractor(api, tokens, 1)  # a registered contractor that owns nothing here

    funds = Funds(api, tokens)
    province_allocation = await funds.published(ACCEPTANCE)
    reallocation = _ok(
        await funds.create(
            {"year": 2026, "parent_allocation_id": province_allocation["id"], "own_funds": "0.00",
             "weights": WEIGHTS, "factor_values": REALLOCATION_VALUES, "units": sorted(REALLOCATION_VALUES)},
            PREFECTURE,
        )
    )  # fmt: skip  # a draft of 昆明市: visible at 5301 and above, nowhere else
    allocation = reallocation["id"]
    line = next(x for x in reallocation["lines"] if x["region_code"] == COUNTY)["allocation_line_id"]
    system = _ok(
        await api.post(
            "/api/v1/indicator-systems",
            json={"name": "绩效评价", "year": 2026,
                  "indicators": [{"code": "quality", "name": "服务质量", "weight": "1", "source": "manual"}]},
            headers=province,
        )
    )["id"]  # fmt: skip
    evaluation = _ok(
        await api.post(
            "/api/v1/evaluations",
            json={"contract_id": world.contract, "period": "2026-Q1", "indicator_system_id": system,
                  "manual_scores": {"quality": "85"}},
            headers=county,
        )
    )["id"]  # fmt: skip
    violation = _ok(
        await api.post(
            "/api/v1/violations",
            json={"dispatch_id": dispatch, **FOUND, "multiplier": "1", "decided_on": str(business_day())},
            headers=county,
        )
    )["id"]
    appeal = _ok(
        await api.post(
            f"/api/v1/violations/{violation}/appeals", json={"grounds": "记录系系统故障所致"}, headers=world.h
        )
    )["id"]
    replacement = _ok(
        await api.post(
            "/api/v1/replacement-requests",
            json={"dispatch_id": dispatch, "reason": "协理员长期缺岗"},
            headers=county,
        )
    )["id"]
    return Objects(
        params={
            "code": TOWNSHIP,
            "region_code": COUNTY,
            "month": "2026-01",
            "rule_set_id": str(rule_sets[0]["id"]),
            "person_id": str(worker),
            "post_id": str(post),
            "task_id": str(task),
            "log_id": str(log),
            "contractor_id": str(world.contractor),
            "need_id": str(need),
            "plan_id": str(plan),
            "procurement_id": str(procurement["id"]),
            "bid_id": str(bid),
            "contract_id": str(world.contract),
            "dispatch_id": str(dispatch),
            "allocation_id": str(allocation),
            "system_id": str(system),
            "evaluation_id": str(evaluation),
            "violation_id": str(violation),
            "appeal_id": str(appeal),
            "request_id": str(replacement),
        },
        contractor=world.contractor,
        other_contractor=stranger,
        worker=worker,
        other_worker=other_worker,
        extra={
            "second_dispatch": second_dispatch,
            "line": line,
            "rule_parameters": rule_sets[0]["parameters"],
            "dispatch": dispatch,
            "system": system,
            "plan": plan,
            "post_person": post_person,
        },
    )
