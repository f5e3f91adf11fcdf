"""Request and response models of procurement, bids, evaluator sheets and the award."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from services.common.ids import MAX_ID
from services.common.money import PLAIN_DECIMAL, Money, PositiveMoney, Score, decimal_in, share_pattern
from services.common.months import Instant

Method = Literal[
    "public_tender",
    "competitive_consultation",
    "competitive_negotiation",
    "single_source",
    "lowest_price",
    "inquiry",
]
METHOD_FIELD = (
    "采购方式 (method): public_tender 公开招标, competitive_consultation 竞争性磋商, competitive_negotiation "
    "竞争性谈判, single_source 单一来源; lowest_price and inquiry (询价) are refused "
    "(never lowest price alone)"
)
Weight = Annotated[
    Decimal,
    Strict(False),
    PLAIN_DECIMAL,
    Field(gt=0, lt=1, max_digits=3, decimal_places=2),
    decimal_in(share_pattern(2, above_zero=True, below_one=True)),
]
PriceWeight = Annotated[
    Decimal,
    Strict(False),
    PLAIN_DECIMAL,
    Field(ge=0, le=1, max_digits=3, decimal_places=2),
    decimal_in(share_pattern(2), 0, 1),
]


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="评审因素代码 (criterion code)")
    name: str = Field(min_length=1, max_length=100, description="评审因素 (criterion)")
    weight: Weight = Field(description="权重 (weight, e.g. 0.40)")


class ProcurementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    plan_id: int = Field(ge=1, le=MAX_ID, description="已同意的购买计划 (approved purchase plan)")
    method: Method = Field(description=METHOD_FIELD)
    price_weight: PriceWeight = Field(description="价格分权重，0.10–0.30 (price weight)")
    criteria: list[Criterion] = Field(min_length=1, max_length=20, description="评审因素 (quality criteria)")
    budget_ceiling: PositiveMoney = Field(description="最高限价，元 (budget ceiling)")
    bid_deadline: Instant = Field(description="投标截止时间 (bid deadline, with offset)")


class ProcurementRead(BaseModel):
    id: int = Field(description="采购编号 (procurement id)")
    plan_id: int = Field(description="购买计划 (plan)")
    county_code: str = Field(description="县 (county)")
    method: Method = Field(description=METHOD_FIELD)
    price_weight: Decimal = Field(description="价格分权重 (price weight)")
    criteria: list[Criterion] = Field(description="评审因素 (criteria)")
    budget_ceiling: Money = Field(description="最高限价，元 (budget ceiling)")
    bid_deadline: datetime = Field(description="投标截止时间 (bid deadline)")
    status: Literal["open", "evaluated", "awarded"] = Field(
        description="状态 (open 投标中, evaluated 已评审, awarded 已定标)"
    )
    version: int = Field(description="版本 (version)")


class BidCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    price: PositiveMoney = Field(description="投标报价，元 (price)")


class BidRead(BaseModel):
    id: int = Field(description="投标编号 (bid id)")
    procurement_id: int = Field(description="采购 (procurement)")
    contractor_id: int = Field(description="承接主体 (contractor)")
    price: Money = Field(description="报价，元 (price)")
    risk_flags: list[str] = Field(
        description="截止日的皮包公司风险提示 (shell-company flags at the deadline)"
    )
    risk_review: str | None = Field(description="风险审查意见 (the county's written risk review)")
    explanation: str | None = Field(description="异常低价说明 (explanation of an abnormally low price)")
    explanation_accepted: bool | None = Field(description="说明是否被接受 (explanation accepted)")
    price_score: Decimal | None = Field(description="价格分 (price score, after evaluation)")
    quality_score: Decimal | None = Field(description="质量分 (quality score)")
    total: Decimal | None = Field(description="综合得分 (total, rounded half-up to 2 decimals)")
    rank: int | None = Field(description="排名 (rank; equal total and price share one)")
    abnormally_low: bool | None = Field(description="是否异常低价 (below half the mean valid price)")
    submitted_at: datetime = Field(description="投标时间 (submitted at)")


class ScoreCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    evaluator: str = Field(min_length=1, max_length=100, description="评审专家 (evaluator)")
    scores: dict[str, Score] = Field(description="各评审因素得分 0–100 (criterion code → score)")


class ScoreRead(BaseModel):
    id: int = Field(description="评分表编号 (sheet id)")
    bid_id: int = Field(description="投标 (bid)")
    evaluator: str = Field(description="评审专家 (evaluator)")
    scores: dict[str, Decimal] = Field(description="各评审因素得分 (scores)")


class RiskReview(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    review: str = Field(min_length=1, max_length=4000, description="书面风险审查意见 (written risk review)")


class Explanation(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(
        min_length=1, max_length=4000, description="投标人的书面说明 (the bidder's explanation)"
    )
    accepted: bool = Field(description="评审是否接受 (accepted by the evaluation)")


class AwardCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    winner_bid_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="并列第一时指定的中标投标 (when rank 1 is shared)"
    )


class AwardRead(BaseModel):
    procurement_id: int = Field(description="采购 (procurement)")
    bid_id: int = Field(description="中标投标 (winning bid)")
    contractor_id: int = Field(description="承接主体 (contractor)")
    contract_id: int = Field(description="生成的合同草稿 (the draft contract created)")
    amount: Money = Field(description="合同金额 = 中标价，元 (contract amount)")
