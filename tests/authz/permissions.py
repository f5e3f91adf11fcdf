"""Who may call what, as data: every operation of the merged API document → the roles admitted, the
service-account scope that also admits it, and how the object's region, organisation or person is
found. The matrix test (``test_matrix.py``) walks this table for every role, from inside and from
outside the object's scope, and fails on an operation the document has and the table lacks.

It is written from the spec's role table (``spec/README.md``, *Identity, roles and scope*) and each
service's section on who acts, not read back from the routes: a route whose guard drifts from it
fails the test. ``services/common/auth/deps.py`` is the one place the routes' guards come from.

How an object is found (``found``):

- ``NONE``: no object — reference data, calculators, province-level records; everyone admitted gets
  the same answer, inside or outside.
- ``LIST``: a list cut to the caller's own scope; from outside it answers 200 without the world's
  object (``hides``), and a region-scoped caller's answer does not mention the world's township.
- ``PATH``: a path parameter names the object (its region, its contract's county, its contractor,
  its worker): from outside, 404.
- ``BODY``: the body names it (a dispatch, a contract, a region): from outside, 404.

``beneath``: admitted roles whose inside caller sits below the object — a township official and its
county's contract — so they get 404 from inside too (ancestors are outside scope). ``anywhere``:
admitted roles for whom the object is not scoped at all (a contractor reads any region's reference
data; any registered contractor may bid in an open procurement and see that procurement).

The test walks the table in order, and an admitted write changes its object (a contract completes,
an allocation is published), so an object's reads come before the writes that change who may see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NONE, LIST, PATH, BODY = "none", "list", "path", "body"

PROVINCE = frozenset({"province_admin"})
COUNTY = frozenset({"county_official"})
GOVERNMENT = frozenset({"county_government"})
CONTRACTOR = frozenset({"contractor"})
READ = frozenset(
    {"province_admin", "prefecture_official", "county_official", "county_government",
     "township_official", "finance_official", "auditor"}
)  # fmt: skip
EVERYONE = READ | {"contractor", "worker"}
ALL = EVERYONE | {"service"}  # service accounts without needing a scope: calculators, public data
TOWNSHIP = frozenset({"township_official"})
WORKER = frozenset({"worker"})
AUDIT = frozenset({"auditor", "province_admin"})


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    scope: str | None = None  # a service account carrying this scope is admitted too
    found: str = PATH
    hides: str | None = None  # LIST: the world object an outside caller must not see
    beneath: frozenset[str] = frozenset()
    anywhere: frozenset[str] = frozenset()
    # What an outside caller of a role gets instead of 404 (an import names bad rows; a batch
    # answers item by item).
    outside: dict[str, tuple[int, str]] = field(default_factory=dict)


R = Rule


def every(roles: tuple[str, ...], status: int, code: str) -> dict[str, tuple[int, str]]:
    return dict.fromkeys(roles, (status, code))


S, C, P = "staffing:read", "contracts:read", "penalties:read"
# 州（市）、县 objects seen by a township official from below.
LOW = TOWNSHIP

PERMISSIONS: dict[str, Rule] = {
    # staffing_api: regions and their figures
    "POST /api/v1/regions": R(PROVINCE | COUNTY, found=BODY),
    "GET /api/v1/regions": R(EVERYONE, S, LIST, hides="code", anywhere=CONTRACTOR),
    "GET /api/v1/regions/{code}": R(READ | {"contractor", "worker"}, S, beneath=WORKER, anywhere=CONTRACTOR),
    "PUT /api/v1/regions/{code}/stats/{month}": R(PROVINCE | COUNTY | TOWNSHIP),
    "GET /api/v1/regions/{code}/stats/{month}": R(
        READ | {"contractor", "worker"}, S, beneath=WORKER, anywhere=CONTRACTOR
    ),
    "GET /api/v1/regions/{code}/stats": R(
        READ | {"contractor", "worker"}, S, beneath=WORKER, anywhere=CONTRACTOR
    ),
    "GET /api/v1/region-stats": R(READ, S, LIST),
    "POST /api/v1/region-stats/import": R(
        PROVINCE | COUNTY | TOWNSHIP,
        found=BODY,
        outside=every(("county_official", "township_official"), 422, "IMPORT_ROWS_INVALID"),
    ),
    "PUT /api/v1/regions/{code}/establishment": R(PROVINCE | COUNTY),
    "GET /api/v1/regions/{code}/establishment": R(
        READ | {"contractor", "worker"}, S, beneath=WORKER, anywhere=CONTRACTOR
    ),
    # staffing_api: rule sets and quotas
    "GET /api/v1/staffing-rule-sets": R(READ, S, NONE),
    "POST /api/v1/staffing-rule-sets": R(PROVINCE, found=NONE),
    "GET /api/v1/staffing-rule-sets/{rule_set_id}": R(READ, S, NONE),
    "POST /api/v1/quotas/compute": R(ALL, found=NONE),
    "GET /api/v1/quotas/{region_code}": R(READ, S, beneath=LOW),
    "GET /api/v1/quotas": R(READ, S, LIST),
    "GET /api/v1/quota-summary/{region_code}": R(READ, S, beneath=LOW),
    "POST /api/v1/quota-simulations": R(READ, S, BODY, beneath=LOW),
    # staffing_api: people, the roster, duties, tasks, work logs
    "POST /api/v1/persons": R(
        PROVINCE | COUNTY | CONTRACTOR, found=BODY, outside={"contractor": (409, "PERSON_EXISTS")}
    ),
    "GET /api/v1/persons": R(EVERYONE, S, LIST, hides="person_id"),
    "GET /api/v1/persons/{person_id}": R(EVERYONE, S),
    "POST /api/v1/establishment-posts": R(PROVINCE | COUNTY, found=BODY),
    "GET /api/v1/establishment-posts": R(READ, S, LIST, hides="post_id"),
    "POST /api/v1/establishment-posts/{post_id}/end": R(PROVINCE | COUNTY),
    "GET /api/v1/establishment-posts/{post_id}": R(READ, S),
    "POST /api/v1/assistant-eligibility": R(READ | CONTRACTOR, found=BODY),
    "GET /api/v1/duties": R(ALL, found=NONE),
    "POST /api/v1/tasks": R(PROVINCE | COUNTY | TOWNSHIP, found=BODY),
    "GET /api/v1/tasks": R(READ | WORKER, found=LIST, hides="task_id"),
    "GET /api/v1/tasks/{task_id}": R(READ | WORKER),
    "POST /api/v1/work-logs": R(PROVINCE | COUNTY | TOWNSHIP | WORKER, found=BODY),
    "GET /api/v1/work-logs": R(READ | WORKER, S, LIST, hides="log_id"),
    "POST /api/v1/work-logs/batch": R(
        PROVINCE | COUNTY | TOWNSHIP | WORKER,
        found=BODY,
        outside=every(("county_official", "township_official", "worker"), 200, "rejected"),
    ),
    "GET /api/v1/workload": R(READ, S, LIST),
    "GET /api/v1/work-logs/{log_id}": R(READ | WORKER, S),
    # staffing_api: the change feed and the audit log
    "GET /api/v1/events": R(READ, "events:read", LIST),
    "GET /api/v1/audit-events": R(AUDIT, found=LIST),
    # contract_api: contractors and the catalog
    "POST /api/v1/contractors": R(PROVINCE | COUNTY, found=BODY),
    "GET /api/v1/contractors": R(READ | CONTRACTOR, C, LIST, hides="contractor_id"),
    "GET /api/v1/contractors/{contractor_id}": R(READ | CONTRACTOR, C, beneath=LOW),
    "GET /api/v1/contractors/{contractor_id}/debarments": R(READ | CONTRACTOR, C, beneath=LOW),
    "GET /api/v1/service-catalog": R(READ | CONTRACTOR, C, NONE),
    "POST /api/v1/service-catalog": R(PROVINCE, found=NONE),
    # contract_api: needs, plans, procurement
    "POST /api/v1/purchase-needs": R(COUNTY | TOWNSHIP, found=BODY),
    "GET /api/v1/purchase-needs": R(READ, C, LIST, hides="need_id"),
    "GET /api/v1/purchase-needs/{need_id}": R(READ, C, beneath=LOW),
    "POST /api/v1/purchase-needs/{need_id}/submit": R(COUNTY | TOWNSHIP, beneath=LOW),
    "POST /api/v1/purchase-needs/{need_id}/accept": R(COUNTY),
    "POST /api/v1/purchase-needs/{need_id}/return": R(COUNTY),
    "POST /api/v1/purchase-plans": R(COUNTY, found=BODY),
    "GET /api/v1/purchase-plans": R(READ, C, LIST, hides="plan_id"),
    "GET /api/v1/purchase-plans/{plan_id}": R(READ, C, beneath=LOW),
    "POST /api/v1/purchase-plans/{plan_id}/submit": R(COUNTY),
    "POST /api/v1/purchase-plans/{plan_id}/approve": R(GOVERNMENT),
    "POST /api/v1/purchase-plans/{plan_id}/reject": R(GOVERNMENT),
    "POST /api/v1/procurements": R(COUNTY, found=BODY),
    "GET /api/v1/procurements/{procurement_id}": R(READ | CONTRACTOR, C, beneath=LOW, anywhere=CONTRACTOR),
    "POST /api/v1/procurements/{procurement_id}/bids": R(CONTRACTOR, anywhere=CONTRACTOR),
    "GET /api/v1/procurements/{procurement_id}/bids": R(
        READ | CONTRACTOR, C, beneath=LOW, anywhere=CONTRACTOR, hides="bid_id"
    ),
    "POST /api/v1/procurements/{procurement_id}/bids/{bid_id}/scores": R(COUNTY),
    "POST /api/v1/procurements/{procurement_id}/bids/{bid_id}/risk-review": R(COUNTY),
    "POST /api/v1/procurements/{procurement_id}/bids/{bid_id}/explanation": R(COUNTY),
    "POST /api/v1/procurements/{procurement_id}/evaluate": R(COUNTY),
    "POST /api/v1/procurements/{procurement_id}/award": R(COUNTY),
    # contract_api: contracts
    "GET /api/v1/contracts/{contract_id}": R(READ | CONTRACTOR, C, beneath=LOW),
    "PATCH /api/v1/contracts/{contract_id}": R(COUNTY),
    "GET /api/v1/contracts": R(READ | CONTRACTOR, C, LIST, hides="contract_id"),
    "POST /api/v1/contracts/{contract_id}/authorize": R(GOVERNMENT),
    "POST /api/v1/contracts/{contract_id}/sign": R(COUNTY),
    "POST /api/v1/contracts/{contract_id}/work-plan": R(CONTRACTOR),
    "POST /api/v1/contracts/{contract_id}/acknowledge": R(PROVINCE | {"prefecture_official"}),
    "POST /api/v1/contracts/{contract_id}/activate": R(COUNTY),
    "POST /api/v1/contracts/{contract_id}/takeover": R(COUNTY),
    "POST /api/v1/contracts/{contract_id}/resume": R(COUNTY),
    "POST /api/v1/contracts/{contract_id}/complete": R(COUNTY),
    "POST /api/v1/contracts/{contract_id}/terminate": R(COUNTY),
    # contract_api: dispatch, payroll, payments
    "POST /api/v1/dispatches": R(CONTRACTOR, found=BODY),
    "GET /api/v1/dispatches": R(EVERYONE, C, LIST, hides="dispatch_id"),
    "POST /api/v1/dispatches/{dispatch_id}/end": R(CONTRACTOR | COUNTY),
    "GET /api/v1/dispatches/{dispatch_id}": R(EVERYONE, C),
    "PUT /api/v1/dispatches/{dispatch_id}/payroll/{month}": R(CONTRACTOR),
    "GET /api/v1/dispatches/{dispatch_id}/payroll": R(EVERYONE, C),
    "GET /api/v1/payroll-compliance": R(READ | CONTRACTOR, C, LIST),
    "POST /api/v1/contracts/{contract_id}/payments": R(COUNTY),
    "GET /api/v1/contracts/{contract_id}/payments": R(READ | CONTRACTOR, C, beneath=LOW),
    # contract_api: funds and performance
    "POST /api/v1/allocations": R(PROVINCE, found=NONE),
    "GET /api/v1/allocations": R(READ, C, LIST, hides="allocation_id"),
    "GET /api/v1/allocations/{allocation_id}": R(
        READ, C, beneath=frozenset({"county_official", "county_government", "township_official"})
    ),  # a draft of 昆明市, read before the writes below publish it
    "POST /api/v1/allocations/{allocation_id}/approve": R(frozenset({"finance_official"})),
    "POST /api/v1/allocations/{allocation_id}/publish": R(PROVINCE | {"finance_official"}),
    "POST /api/v1/expenditures": R(COUNTY, found=BODY),
    "GET /api/v1/expenditures": R(READ, C, LIST),
    "GET /api/v1/fund-execution": R(READ, C, LIST),
    "POST /api/v1/indicator-systems": R(PROVINCE, found=NONE),
    "GET /api/v1/indicator-systems": R(READ | CONTRACTOR, C, NONE),
    "GET /api/v1/indicator-systems/{system_id}": R(READ | CONTRACTOR, C, NONE),
    "POST /api/v1/evaluations": R(PROVINCE | COUNTY, found=BODY),
    "GET /api/v1/evaluations": R(READ | CONTRACTOR, C, LIST, hides="evaluation_id"),
    "GET /api/v1/evaluations/{evaluation_id}": R(READ | CONTRACTOR, C, beneath=LOW),
    "POST /api/v1/satisfaction-surveys": R(
        PROVINCE | COUNTY | TOWNSHIP | {"prefecture_official"}, found=BODY, beneath=LOW
    ),
    "GET /api/v1/satisfaction-surveys": R(READ, C, LIST),
    "GET /api/v1/satisfaction-surveys/rate": R(READ | CONTRACTOR, C, BODY, beneath=LOW),
    # contract_api: what anyone may read (no token)
    "GET /api/v1/public/debarments": R(ALL, found=NONE),
    "GET /api/v1/public/contracts": R(ALL, found=NONE),
    "GET /api/v1/public/ocds/releases": R(ALL, found=NONE),
    "GET /api/v1/public/allocations": R(ALL, found=NONE),
    # penalty_api
    "POST /api/v1/violations": R(COUNTY | TOWNSHIP, found=BODY),
    "GET /api/v1/violations": R(READ | CONTRACTOR, P, LIST, hides="violation_id"),
    "POST /api/v1/violations/{violation_id}/confirm": R(COUNTY),
    "POST /api/v1/violations/{violation_id}/dismiss": R(COUNTY),
    "GET /api/v1/violations/{violation_id}": R(READ | CONTRACTOR, P),
    "GET /api/v1/violation-summary/{contract_id}": R(READ | CONTRACTOR, P, beneath=LOW),
    "POST /api/v1/violations/{violation_id}/appeals": R(CONTRACTOR),
    "POST /api/v1/appeals/{appeal_id}/decide": R(COUNTY),
    "GET /api/v1/appeals/{appeal_id}": R(READ | CONTRACTOR, P),
    "GET /api/v1/appeals": R(READ | CONTRACTOR, P, LIST, hides="appeal_id"),
    "GET /api/v1/ledger/{contract_id}/entries": R(READ | CONTRACTOR, P, beneath=LOW),
    "GET /api/v1/ledger/{contract_id}/balance": R(READ | CONTRACTOR, P, beneath=LOW),
    "GET /api/v1/ledger/{contract_id}/verify": R(AUDIT),
    "GET /api/v1/ledger/verify": R(AUDIT, found=LIST),
    "GET /api/v1/deduction-summary": R(READ | CONTRACTOR, P, LIST),
    "POST /api/v1/replacement-requests": R(COUNTY, found=BODY),
    "GET /api/v1/replacement-requests": R(READ | CONTRACTOR, P, LIST, hides="request_id"),
    "POST /api/v1/replacement-requests/{request_id}/fulfil": R(CONTRACTOR),
    "GET /api/v1/replacement-requests/{request_id}": R(READ | CONTRACTOR, P),
    "POST /api/v1/settlements": R(COUNTY, found=BODY),
}
# The gateway's own operations: who may call them is their whole meaning, so they have tests of
# their own (tests/gateway); the matrix only checks they are accounted for.
GATEWAY = {
    "POST /auth/token": "public: a password or client-credentials grant",
    "POST /auth/revoke": "any valid token, for itself",
    "GET /.well-known/jwks.json": "public: the verification keys",
    "GET /healthz": "public: liveness",
    "GET /readyz": "public: readiness",
    "GET /metrics": "JIUZHU_METRICS_TOKEN, or loopback only",
}
