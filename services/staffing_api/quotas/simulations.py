"""Policy simulation before a standard changes (staffing.md *Policy simulation*): the draft parameters
against the baseline for every unit below a region, in one set-based query over the same SQL rules
the quota summary uses. Writes nothing."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from fastapi import Depends

from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, ensure_in_scope, require
from services.common.auth.tokens import Principal
from services.common.errors import invalid, not_found
from services.common.exports import exportable
from services.common.money import FEN
from services.common.months import format_month
from services.common.regions import parse_code
from services.common.transaction import Session
from services.staffing_api.quotas import rules, store
from services.staffing_api.quotas.routes import _CHILD_LENGTH, _as_of, applicable_rule_set
from services.staffing_api.quotas.schemas import (
    Delta,
    MaybeDelta,
    QuotaSimulation,
    QuotaSimulationCreate,
    SimulatedLevel,
    SimulatedLevels,
    SimulatedPart,
)
from services.staffing_api.regions import store as regions_store

router = make_router(prefix="/api/v1", tags=["quotas"])
LEVELS = ("county", "township", "village")
Reader = Annotated[Principal, Depends(require(*READ_ROLES, scope="staffing:read"))]


def _level(r: Any) -> SimulatedLevel:
    county = r.level == "county"
    return SimulatedLevel(
        units=r.units,
        required_min=Delta(before=r.req_before, after=r.req_after, delta=r.req_after - r.req_before),
        allowed_max=MaybeDelta(
            before=None if county else r.cap_before,
            after=None if county else r.cap_after,
            delta=None if county else r.cap_after - r.cap_before,
        ),
        shortfall=Delta(before=r.short_before, after=r.short_after, delta=r.short_after - r.short_before),
        units_changed=r.units_changed,
    )


# The largest sum of money the API can state (NUMERIC(16,2), ``money.Money``).
MONEY_MAX = Decimal("99999999999999.99")


def _part(code: str, name: str, rows: list[Any], monthly_cost: Decimal) -> SimulatedPart:
    levels = {r.level: _level(r) for r in rows}
    additional = sum(level.shortfall.delta for level in levels.values())
    annual = (additional * monthly_cost * 12).quantize(FEN)
    if abs(annual) > MONEY_MAX:
        # A draft no province could fund (a threshold of 0, a divisor of 1, a cost in billions): say
        # so, rather than fail to write the figure (it was a 500, found by the fuzzer).
        raise invalid(
            "SIMULATION_OUT_OF_RANGE", "模拟的年度成本超出可表示的金额范围，请检查参数",
            "The simulated annual cost is beyond any sum the API can state; check the draft",
        )  # fmt: skip
    return SimulatedPart(
        region_code=code, name=name, levels=SimulatedLevels(**{k: levels.get(k) for k in LEVELS}),
        additional_staff=additional, annual_cost_delta=annual,
    )  # fmt: skip


@router.post(
    "/quota-simulations",
    response_model=QuotaSimulation,
    openapi_extra=exportable("quota-simulation", "children"),
)
async def simulate(body: QuotaSimulationCreate, principal: Reader, session: Session) -> QuotaSimulation:
    """政策模拟 (what a draft standard would need everywhere below `region`, against the baseline: per
    level the sums before and after and their change, the units whose quota changes, the additional
    staff and the annual cost; the same per child region). Writes nothing."""
    code = parse_code(body.region, "region") if body.region is not None else principal.region
    ensure_in_scope(principal, code, "区划", "region")
    region = await regions_store.get(session, code)
    if region is None:
        raise not_found("区划", "region")
    month, day = _as_of(body.as_of)
    baseline = await applicable_rule_set(session, body.baseline_rule_set_id, day)
    before = rules.RuleParameters.model_validate(baseline.parameters)
    cost = body.monthly_cost
    if cost is None:
        mean = await store.mean_wage(session, day, code)
        cost = Decimal("0.00") if mean is None else mean.quantize(FEN, rounding=ROUND_HALF_UP)
    child_length = _CHILD_LENGTH[len(code)]
    rows = await store.simulation(
        session, before, body.parameters, day, month, prefix=code, child_length=child_length
    )
    by_child: dict[str, list[Any]] = {}
    for r in rows:
        if r.child is not None:
            by_child.setdefault(r.child, []).append(r)
    names = await regions_store.names(session, list(by_child))
    whole = _part(code, region.name, [r for r in rows if r.child is None], cost)
    return QuotaSimulation(
        **whole.model_dump(), as_of=format_month(month), baseline_rule_set_id=baseline.id, monthly_cost=cost,
        children=[_part(c, names.get(c, c), by_child[c], cost) for c in sorted(by_child) if c != code],
    )  # fmt: skip
