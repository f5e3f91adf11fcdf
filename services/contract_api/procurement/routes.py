"""Procurement (contracts.md *Procurement and evaluation*): comprehensive scoring only, bids before
the deadline, the evaluators' sheets, `evaluate` and `award` (a draft contract)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Response

from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, ensure_in_scope, own_org, require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.errors import DomainError, FieldError, conflict, invalid, invalid_field, not_found
from services.common.exports import exportable
from services.common.ids import PathId
from services.common.models import Bid, BidScore, Contract, Procurement
from services.common.months import business_today
from services.common.transaction import Session
from services.contract_api.contractors import rules as contractor_rules
from services.contract_api.contractors import store as contractors
from services.contract_api.contractors.routes import organisation_of
from services.contract_api.procurement import rules, store
from services.contract_api.procurement.schemas import (
    AwardCreate,
    AwardRead,
    BidCreate,
    BidRead,
    Criterion,
    Explanation,
    ProcurementCreate,
    ProcurementRead,
    RiskReview,
    ScoreCreate,
    ScoreRead,
)

router = make_router(prefix="/api/v1", tags=["procurement"])
County = Annotated[Principal, Depends(require("county_official"))]
Bidder = Annotated[Principal, Depends(require("contractor"))]
Reader = Annotated[Principal, Depends(require(*READ_ROLES, "contractor", scope="contracts:read"))]
PROBLEMS: dict[int | str, dict[str, str]] = {
    403: {"description": "角色无权 (role may not)"},
    404: {"description": "不存在或不在管辖范围内 (unknown or out of scope)"},
    409: {"description": "状态冲突 (state conflict)"},
}


def procurement_read(p: Procurement) -> ProcurementRead:
    return ProcurementRead(
        id=p.id, plan_id=p.plan_id, county_code=p.county_code, method=p.method, price_weight=p.price_weight,
        criteria=[Criterion.model_validate(c) for c in p.criteria], budget_ceiling=p.budget_ceiling,
        bid_deadline=p.bid_deadline, status=p.status, version=p.version,
    )  # fmt: skip


def bid_read(b: Bid) -> BidRead:
    return BidRead(
        id=b.id, procurement_id=b.procurement_id, contractor_id=b.contractor_id, price=b.price,
        risk_flags=b.risk_flags, risk_review=b.risk_review, explanation=b.explanation,
        explanation_accepted=b.explanation_accepted, price_score=b.price_score, quality_score=b.quality_score,
        total=b.total, rank=b.rank, abnormally_low=b.abnormally_low, submitted_at=b.submitted_at,
    )  # fmt: skip


def _now() -> datetime:
    return datetime.now(UTC)


def _weights(p: Procurement) -> dict[str, Decimal]:
    return {c["code"]: Decimal(c["weight"]) for c in p.criteria}


async def _procurement(
    session: Session, principal: Principal, procurement_id: int, *, lock: bool = False
) -> Procurement:
    """Officials in scope; any contractor may read a procurement (it is a public call for bids)."""
    found = await store.get(session, procurement_id, lock=lock)
    if found is None:
        raise not_found("采购项目", "procurement")
    if principal.role != "contractor":
        ensure_in_scope(principal, found.county_code, "采购项目", "procurement")
    return found


def _closed(p: Procurement) -> None:
    """Sheets, reviews and evaluation come after the deadline."""
    if _now() < p.bid_deadline:
        raise conflict("BIDDING_OPEN", "投标截止前不能评审", "Evaluation starts after the bid deadline")


def _not_awarded(p: Procurement) -> None:
    if p.status == "awarded":
        raise conflict("PROCUREMENT_AWARDED", "该采购已定标", "This procurement is already awarded")


def _debarred() -> DomainError:
    return invalid("CONTRACTOR_DEBARRED", "承接主体处于禁止参与期内", "The contractor is debarred")


@router.post("/procurements", status_code=201, response_model=ProcurementRead, responses=PROBLEMS)
async def create_procurement(
    body: ProcurementCreate, principal: County, session: Session, response: Response
) -> ProcurementRead:
    """发起采购 (the county official, for an approved plan of its county). Comprehensive scoring only:
    a lowest-price method → 422 `LOWEST_PRICE_NOT_ALLOWED`; price weight outside [0.10, 0.30] → 422
    `PRICE_WEIGHT_OUT_OF_RANGE`; price and criteria weights must sum to 1."""
    plan = await store.plan(session, body.plan_id)
    if plan is None or not plan.county_code.startswith(principal.region):
        raise not_found("购买计划", "purchase plan")
    if plan.status != "approved":
        raise conflict("PLAN_NOT_APPROVED", "购买计划尚未经县级人民政府同意", "The plan is not approved")
    rules.check_method(body.method)
    criteria = {c.code: c.weight for c in body.criteria}
    if len(criteria) != len(body.criteria):
        raise invalid_field("criteria", "DUPLICATE_CRITERION", "评审因素代码重复", "A criterion code repeats")
    rules.check_weights(body.price_weight, criteria)
    if body.budget_ceiling > plan.total:
        zh, en = "最高限价不能超过计划金额", "The ceiling cannot exceed the plan's total"
        raise invalid_field("budget_ceiling", "CEILING_ABOVE_PLAN", zh, en)
    if body.bid_deadline <= _now():
        raise invalid_field(
            "bid_deadline", "DEADLINE_PASSED", "投标截止时间须晚于现在", "The deadline must be ahead"
        )
    procurement = Procurement(
        plan_id=plan.id, county_code=plan.county_code, method=body.method, price_weight=body.price_weight,
        criteria=[c.model_dump(mode="json") for c in body.criteria], budget_ceiling=body.budget_ceiling,
        bid_deadline=body.bid_deadline,
    )  # fmt: skip
    await store.add(session, procurement)
    out = procurement_read(procurement)
    record_change(
        session, principal, action="created", resource="procurement", resource_id=str(procurement.id),
        region=procurement.county_code, data=out.model_dump(mode="json"),
    )  # fmt: skip
    response.headers["Location"] = f"/api/v1/procurements/{procurement.id}"
    return out


@router.get("/procurements/{procurement_id}", response_model=ProcurementRead, responses=PROBLEMS)
async def read_procurement(procurement_id: PathId, principal: Reader, session: Session) -> ProcurementRead:
    """读取采购项目 (officials in scope; contractors, to bid)."""
    return procurement_read(await _procurement(session, principal, procurement_id))


@router.post(
    "/procurements/{procurement_id}/bids", status_code=201, response_model=BidRead, responses=PROBLEMS
)
async def submit_bid(
    procurement_id: PathId, body: BidCreate, principal: Bidder, session: Session, response: Response
) -> BidRead:
    """投标 (a contractor, before the deadline, once). Debarred → 422 `CONTRACTOR_DEBARRED`; ineligible
    → 422 `CONTRACTOR_INELIGIBLE`; above the ceiling → 422 `BID_OVER_BUDGET`; late → 409."""
    procurement = await _procurement(session, principal, procurement_id)
    contractor = await contractors.get(session, own_org(principal) or 0)
    if contractor is None:
        raise not_found("承接主体", "contractor")
    if _now() >= procurement.bid_deadline:
        raise conflict("BIDDING_CLOSED", "投标已截止", "Bidding has closed")
    deadline_day = business_today(procurement.bid_deadline)
    if await contractors.is_debarred(session, contractor.id, business_today(_now())):
        raise _debarred()
    facts = organisation_of(contractor)
    reasons = contractor_rules.ineligibility(facts)
    if reasons:
        raise invalid(
            "CONTRACTOR_INELIGIBLE", "承接主体不具备资格", "The contractor may not be hired",
            [FieldError("contractor", r.code, r.zh, r.en) for r in reasons],
        )  # fmt: skip
    if body.price > procurement.budget_ceiling:
        raise invalid_field("price", "BID_OVER_BUDGET", "报价超过最高限价", "The price is above the ceiling")
    if await store.bid_of(session, procurement.id, contractor.id) is not None:
        raise conflict("BID_EXISTS", "已投标", "This contractor has already bid")
    bid = Bid(
        procurement_id=procurement.id, contractor_id=contractor.id, price=body.price,
        risk_flags=contractor_rules.risk_flags(facts, deadline_day),
    )  # fmt: skip
    await store.add(session, bid)
    out = bid_read(bid)
    record_change(
        session, principal, action="created", resource="bid", resource_id=str(bid.id),
        region=procurement.county_code, data={"id": bid.id, "procurement_id": procurement.id},
    )  # fmt: skip
    response.headers["Location"] = f"/api/v1/procurements/{procurement.id}/bids/{bid.id}"
    return out


@router.get(
    "/procurements/{procurement_id}/bids",
    openapi_extra=exportable("bids"),
    response_model=list[BidRead],
    responses=PROBLEMS,
)
async def list_bids(procurement_id: PathId, principal: Reader, session: Session) -> list[BidRead]:
    """投标列表 (officials in scope see every bid; a contractor only its own)."""
    procurement = await _procurement(session, principal, procurement_id)
    own = own_org(principal) if principal.role == "contractor" else None
    if principal.role == "contractor" and own is None:
        return []
    return [bid_read(b) for b in await store.bids(session, procurement.id, own)]


async def _bid_for_county(
    session: Session, principal: Principal, procurement_id: int, bid_id: int
) -> tuple[Procurement, Bid]:
    procurement = await _procurement(session, principal, procurement_id, lock=True)
    bid = await store.bid(session, procurement.id, bid_id)
    if bid is None:
        raise not_found("投标", "bid")
    _closed(procurement)
    _not_awarded(procurement)
    return procurement, bid


@router.post(
    "/procurements/{procurement_id}/bids/{bid_id}/scores",
    status_code=201,
    response_model=ScoreRead,
    responses=PROBLEMS,
)
async def record_scores(
    procurement_id: PathId, bid_id: PathId, body: ScoreCreate, principal: County, session: Session
) -> ScoreRead:
    """录入评分表 (the county official records one evaluator's sheet for one bid, after the deadline;
    a second sheet of the same evaluator → 409 `SCORE_EXISTS`)."""
    procurement, bid = await _bid_for_county(session, principal, procurement_id, bid_id)
    if set(body.scores) != set(_weights(procurement)):
        zh, en = "评分须恰好覆盖全部评审因素", "Score exactly the procurement's criteria"
        raise invalid_field("scores", "CRITERIA_MISMATCH", zh, en)
    evaluator = body.evaluator.strip()
    if await store.sheet(session, bid.id, evaluator) is not None:
        raise conflict("SCORE_EXISTS", "该专家已对此投标评分", "This evaluator has already scored this bid")
    sheet = BidScore(bid_id=bid.id, evaluator=evaluator, scores={k: str(v) for k, v in body.scores.items()})
    await store.add(session, sheet)
    record_change(
        session, principal, action="scored", resource="bid", resource_id=str(bid.id),
        region=procurement.county_code, data={"bid_id": bid.id, "evaluator": evaluator},
    )  # fmt: skip
    return ScoreRead(id=sheet.id, bid_id=bid.id, evaluator=evaluator, scores=dict(body.scores))


@router.post(
    "/procurements/{procurement_id}/bids/{bid_id}/risk-review", response_model=BidRead, responses=PROBLEMS
)
async def review_risk(
    procurement_id: PathId, bid_id: PathId, body: RiskReview, principal: County, session: Session
) -> BidRead:
    """风险审查 (the county official's written review of a flagged bidder; needed before it can win)."""
    procurement, bid = await _bid_for_county(session, principal, procurement_id, bid_id)
    bid.risk_review = body.review.strip()
    await session.flush()
    record_change(
        session, principal, action="risk_reviewed", resource="bid", resource_id=str(bid.id),
        region=procurement.county_code, data={"bid_id": bid.id},
    )  # fmt: skip
    return bid_read(bid)


@router.post(
    "/procurements/{procurement_id}/bids/{bid_id}/explanation", response_model=BidRead, responses=PROBLEMS
)
async def record_explanation(
    procurement_id: PathId, bid_id: PathId, body: Explanation, principal: County, session: Session
) -> BidRead:
    """异常低价说明 (87号令 第60条: the bidder's explanation and whether the evaluation accepts it)."""
    procurement, bid = await _bid_for_county(session, principal, procurement_id, bid_id)
    bid.explanation, bid.explanation_accepted = body.text.strip(), body.accepted
    await session.flush()
    record_change(
        session, principal, action="explained", resource="bid", resource_id=str(bid.id),
        region=procurement.county_code, data={"bid_id": bid.id, "accepted": body.accepted},
    )  # fmt: skip
    return bid_read(bid)


@router.post("/procurements/{procurement_id}/evaluate", response_model=list[BidRead], responses=PROBLEMS)
async def evaluate(procurement_id: PathId, principal: County, session: Session) -> list[BidRead]:
    """评审 (after the deadline, every bid scored by at least one evaluator): ranked bids."""
    procurement = await _procurement(session, principal, procurement_id, lock=True)
    _closed(procurement)
    _not_awarded(procurement)
    all_bids = {b.id: b for b in await store.bids(session, procurement.id)}
    if not all_bids:
        raise invalid("NO_BIDS", "没有投标", "There are no bids")
    sheets = await store.sheets(session, list(all_bids))
    unscored = [i for i, s in sheets.items() if not s]
    if unscored:
        raise invalid(
            "SCORES_MISSING", "有投标尚无评分", "Some bids have no evaluator's sheet",
            [FieldError(f"bids[{i}]", "SCORES_MISSING", "尚无评分", "not scored") for i in unscored],
        )  # fmt: skip
    ranked = rules.evaluate(
        [
            rules.Bid(b.id, b.price, [{k: Decimal(v) for k, v in s.scores.items()} for s in sheets[b.id]])
            for b in all_bids.values()
        ],
        procurement.price_weight,
        _weights(procurement),
    )
    for r in ranked:
        b = all_bids[r.bid_id]
        b.price_score, b.quality_score, b.total, b.rank, b.abnormally_low = (
            r.price_score, r.quality_score, r.total, r.rank, r.abnormally_low,
        )  # fmt: skip
    procurement.status = "evaluated"
    procurement.version += 1
    await session.flush()
    out = [bid_read(all_bids[r.bid_id]) for r in ranked]
    ranking = [{"bid_id": r.bid_id, "total": str(r.total), "rank": r.rank} for r in ranked]
    record_change(
        session, principal, action="evaluated", resource="procurement", resource_id=str(procurement.id),
        region=procurement.county_code, data={"ranking": ranking},
    )  # fmt: skip
    return out


@router.post(
    "/procurements/{procurement_id}/award", status_code=201, response_model=AwardRead, responses=PROBLEMS
)
async def award(
    procurement_id: PathId, body: AwardCreate, principal: County, session: Session, response: Response
) -> AwardRead:
    """定标 (awards rank 1 and creates the contract in `draft` at the winning price). Rank 1 shared →
    `winner_bid_id` names one of them (422 `WINNER_REQUIRED`); the winner's risk review missing or
    abnormal price not explained and accepted → 409 `FLAGS_UNRESOLVED`."""
    procurement = await _procurement(session, principal, procurement_id, lock=True)
    _not_awarded(procurement)
    if procurement.status != "evaluated":
        raise conflict("NOT_EVALUATED", "尚未评审", "Evaluate the bids first")
    top = [b for b in await store.bids(session, procurement.id) if b.rank == 1]
    if len(top) > 1 and body.winner_bid_id is None:
        raise invalid("WINNER_REQUIRED", "并列第一，须指定中标人", "Rank 1 is shared: name the winner")
    chosen = [b for b in top if body.winner_bid_id in (None, b.id)]
    if not chosen:
        zh, en = "指定的投标不是第一名", "The bid named is not ranked first"
        raise invalid_field("winner_bid_id", "WINNER_NOT_TOP", zh, en)
    winner = chosen[0]
    unresolved = (winner.risk_flags and not winner.risk_review) or (
        winner.abnormally_low and not winner.explanation_accepted
    )
    if unresolved:
        raise conflict(
            "FLAGS_UNRESOLVED", "中标投标的风险或异常低价尚未处理", "The winner's flags are unresolved"
        )
    if await contractors.is_debarred(session, winner.contractor_id, business_today(_now())):
        raise _debarred()
    contract = Contract(
        county_code=procurement.county_code, contractor_id=winner.contractor_id, status="draft",
        procurement_id=procurement.id, bid_id=winner.id, amount=winner.price,
    )  # fmt: skip
    await store.add(session, contract)
    procurement.status = "awarded"
    procurement.version += 1
    await session.flush()
    out = AwardRead(
        procurement_id=procurement.id, bid_id=winner.id, contractor_id=winner.contractor_id,
        contract_id=contract.id, amount=winner.price,
    )  # fmt: skip
    for resource, rid, action in (
        ("procurement", procurement.id, "awarded"),
        ("contract", contract.id, "created"),
    ):
        record_change(
            session, principal, action=action, resource=resource, resource_id=str(rid),
            region=procurement.county_code, data=out.model_dump(mode="json"),
        )  # fmt: skip
    response.headers["Location"] = f"/api/v1/contracts/{contract.id}"
    return out
