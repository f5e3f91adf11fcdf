"""The whole flow through the running stack (`jiuzhu up`: real uvicorn processes, the embedded
PostgreSQL, real HTTP through the gateway): a township's purchase need → the county's plan → the
county government's approval → procurement, bids, scores, evaluation, award → the contract's
lifecycle to `active` → dispatched workers posting their own work logs, counted in the quotas, paid
and disclosed. And the demo county `jiuzhu up` seeds: its printed worker token posts a log."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.auth.keys import KeyStore
from services.common.auth.tokens import mint
from services.common.idnumbers import compose
from services.common.settings import Settings
from tests.conftest import business_day
from tests.contracts.test_public import ocds_errors
from tests.e2e.test_up import _free_block, _start, _stop, _wait_ready

pytestmark = pytest.mark.e2e
TOWNSHIP, VILLAGES = "530102002", ("530102002001", "530102002002")
LINE = {
    "catalog_code": "village_assistance_services",
    "quantity": 24,
    "unit": "person_month",
    "posting_level": "village",
    "estimated_amount": "96000.00",
}
CRITERIA = [
    {"code": "service_plan", "name": "服务方案", "weight": "0.40"},
    {"code": "staff_quality", "name": "人员配置", "weight": "0.20"},
    {"code": "experience", "name": "业绩经验", "weight": "0.10"},
]
CONTRACTORS = [("护国街道社会工作服务站", "52530102MJ0123456E"), ("盘龙区救助服务公司", "91530102MA6K00014A")]


def _printed(proc: subprocess.Popen[str]) -> str:
    """What `jiuzhu up` printed once ready (it ends with the Ctrl-C line)."""
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "Ctrl-C stops everything" in line:
            return "".join(lines)
    raise AssertionError("jiuzhu up printed no banner")


class Flow:
    def __init__(self, base: str, data_dir: Path) -> None:
        self.http = httpx.Client(base_url=base, timeout=15)
        self.settings = Settings(data_dir=data_dir)
        self.transcript: list[str] = []

    def token(self, role: str, region: str, **kw: Any) -> dict[str, str]:
        t = mint(self.settings, KeyStore(self.settings.keys_dir), role=role, region=region, **kw)
        return {"Authorization": f"Bearer {t}"}

    def call(self, method: str, path: str, who: dict[str, str], expect: int, **kw: Any) -> Any:
        r = self.http.request(method, path, headers=who, **kw)
        assert r.status_code == expect, (method, path, r.status_code, r.text)
        self.transcript.append(f"{method} {path} → {r.status_code}")
        return r.json() if r.content else None


def test_purchase_need_to_dispatched_workers_posting_logs() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="jzf-", dir="/tmp"))
    port = _free_block()
    proc = _start(data_dir, port)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
        banner = _printed(proc)
        f = Flow(f"http://127.0.0.1:{port}", data_dir)
        _demo_worker_posts_a_log(f, banner)
        _the_flow(f)
        print("\n".join(f.transcript))  # noqa: T201 - the flow in brief, shown by pytest -s
    finally:
        assert _stop(proc) == []
        shutil.rmtree(data_dir, ignore_errors=True)


def _demo_worker_posts_a_log(f: Flow, banner: str) -> None:
    match = re.search(r"# worker (\d+) \(dispatch (\d+)\) @ (\d+)\n(\S+)", banner)
    assert match, banner
    _person, dispatch, _village, token = match.groups()
    assert re.search(r"# contractor \d+ @ 530102\n\S+", banner)
    log = {
        "client_id": str(uuid.uuid4()),
        "dispatch_id": int(dispatch),
        "duty_code": "policy_consultation",
        "date": str(business_day()),
    }
    f.call("POST", "/api/v1/work-logs", {"Authorization": f"Bearer {token}"}, 201, json=log)


def _the_flow(f: Flow) -> None:
    township = f.token("township_official", TOWNSHIP)
    county = f.token("county_official", "530102", sub="county-official-1")
    government = f.token("county_government", "530102")
    province = f.token("province_admin", "53")
    need = f.call(
        "POST",
        "/api/v1/purchase-needs",
        township,
        201,
        json={"region_code": TOWNSHIP, "year": 2027, "items": [LINE], "justification": "每村一名协理员"},
    )
    f.call("POST", f"/api/v1/purchase-needs/{need['id']}/submit", township, 200)
    f.call("POST", f"/api/v1/purchase-needs/{need['id']}/accept", county, 200)
    plan = f.call(
        "POST",
        "/api/v1/purchase-plans",
        county,
        201,
        json={
            "county_code": "530102",
            "year": 2027,
            "need_ids": [need["id"]],
            "funding_source": "provincial_special_subsidy",
        },
    )
    f.call("POST", f"/api/v1/purchase-plans/{plan['id']}/submit", county, 200)
    f.call("POST", f"/api/v1/purchase-plans/{plan['id']}/approve", government, 200, json={})
    deadline = datetime.now(UTC) + timedelta(seconds=6)
    procurement = f.call(
        "POST",
        "/api/v1/procurements",
        county,
        201,
        json={
            "plan_id": plan["id"],
            "method": "competitive_consultation",
            "price_weight": "0.30",
            "criteria": CRITERIA,
            "budget_ceiling": "96000.00",
            "bid_deadline": deadline.isoformat(),
        },
    )
    p = procurement["id"]
    bids, orgs = [], []
    for (name, uscc), price in zip(CONTRACTORS, ("86000.00", "94000.00"), strict=True):
        org = f.call(
            "POST",
            "/api/v1/contractors",
            province,
            201,
            json={
                "name": name,
                "uscc": uscc,
                "org_type": "social_organization",
                "registration_authority": "civil_affairs",
                "registered_on": "2020-05-01",
                "employees": 12,
                "social_insurance_enrollees": 10,
                "region_code": "530102",
                "address": "昆明市五华区护国路 8 号",
            },
        )["id"]
        orgs.append(org)
        who = f.token("contractor", "530102", org_id=str(org), sub=f"contractor-{org}")
        bids.append(f.call("POST", f"/api/v1/procurements/{p}/bids", who, 201, json={"price": price})["id"])
    time.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 0.5)
    for bid, marks in zip(bids, (("90", "90", "90"), ("80", "80", "80")), strict=True):
        scores = dict(zip(("service_plan", "staff_quality", "experience"), marks, strict=True))
        f.call(
            "POST",
            f"/api/v1/procurements/{p}/bids/{bid}/scores",
            county,
            201,
            json={"evaluator": "专家甲", "scores": scores},
        )
    ranked = f.call("POST", f"/api/v1/procurements/{p}/evaluate", county, 200)
    assert ranked[0]["id"] == bids[0] and ranked[0]["rank"] == 1
    contract = f.call("POST", f"/api/v1/procurements/{p}/award", county, 201, json={})["contract_id"]
    org = orgs[0]
    contractor = f.token("contractor", "530102", org_id=str(org), sub=f"contractor-{org}")
    today = business_day()
    start = today - timedelta(days=40)
    terms = {
        "start_date": str(start),
        "end_date": str(start.replace(year=start.year + 3) - timedelta(days=1)),
        "posts": [
            {"posting_level": "village", "region_code": v, "count": 1, "monthly_wage": "3000.00"}
            for v in VILLAGES
        ],
        "payment_schedule": "monthly",
        "takeover_plan": {
            "unit": "五华区民政局社会救助科",
            "contact": "值班电话",
            "summary": "由救助科直接服务",
        },
    }
    f.call("PATCH", f"/api/v1/contracts/{contract}", county, 200, json=terms)
    f.call("POST", f"/api/v1/contracts/{contract}/authorize", government, 200)
    f.call("POST", f"/api/v1/contracts/{contract}/sign", county, 200)
    f.call(
        "POST",
        f"/api/v1/contracts/{contract}/work-plan",
        contractor,
        200,
        json={"work_plan": "每村一名，每月走访"},
    )
    f.call("POST", f"/api/v1/contracts/{contract}/acknowledge", f.token("prefecture_official", "5301"), 200)
    active = f.call("POST", f"/api/v1/contracts/{contract}/activate", county, 200)
    assert active["status"] == "active" and active["allowed_actions"] == ["complete", "takeover", "terminate"]
    for n, village in enumerate(VILLAGES, start=1):
        person = f.call(
            "POST",
            "/api/v1/persons",
            contractor,
            201,
            json={
                "name": f"协理员{n}",
                "id_number": compose("530102", datetime(1990, n, 15).date(), 700 + n),
                "region_code": village,
                "education": "senior_high",
                "phone": f"1370000000{n}",
            },
        )["id"]
        dispatch = f.call(
            "POST",
            "/api/v1/dispatches",
            contractor,
            201,
            json={
                "contract_id": contract,
                "person_id": person,
                "posting_level": "village",
                "region_code": village,
                "monthly_wage": "3000.00",
                "start_date": str(today - timedelta(days=30)),
                "labor_contract_signed_on": str(today - timedelta(days=31)),
                "declarations": {
                    "health_confirmed": True,
                    "law_abiding_confirmed": True,
                    "has_other_job": False,
                },
            },
        )
        worker = f.token("worker", village, sub=str(person), org_id=str(org))
        log = {
            "client_id": str(uuid.uuid4()),
            "dispatch_id": dispatch["id"],
            "duty_code": "application_assistance",
            "date": str(today - timedelta(days=1)),
            "program": "dibao",
            "quantity": 3,
        }
        f.call("POST", "/api/v1/work-logs", worker, 201, json=log)
        f.call("POST", "/api/v1/work-logs", worker, 200, json=log)  # a resend from a weak connection
        quota = f.call("GET", f"/api/v1/quotas/{village}", county, 200)
        assert quota["dispatched"] == 1
        month = (today - timedelta(days=30)).replace(day=1)  # the dispatch's first month
        f.call(
            "PUT",
            f"/api/v1/dispatches/{dispatch['id']}/payroll/{month:%Y-%m}",
            contractor,
            201,
            json={"gross_wage": "3000.00", "paid_on": str(today), "social_insurance_paid": True},
        )
    summary = f.call("GET", f"/api/v1/quota-summary/{TOWNSHIP}", county, 200)
    assert summary["village_coverage"]["covered"] >= 2
    package = f.call("GET", "/api/v1/public/ocds/releases", {}, 200, params={"region": "530102"})
    assert ocds_errors(package) == []
    assert any(r["ocid"].endswith(f"-{contract}") and r["tag"] == ["contract"] for r in package["releases"])
    events = f.call("GET", "/api/v1/events", province, 200, params={"limit": 500})
    kinds = {e["type"] for e in events["items"]}
    assert {
        "purchase_need.accepted",
        "contract.activate",
        "dispatch.created",
        "payroll_record.created",
    } <= kinds, kinds
