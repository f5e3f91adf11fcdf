"""Request and response models of indicator systems, evaluations and satisfaction surveys."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from services.common.ids import MAX_ID
from services.common.models.funds import PERIOD
from services.common.money import PLAIN_DECIMAL, Score, decimal_in, share_pattern
from services.common.months import Day

Metric = Literal["payroll_compliance_rate", "violation_free_rate", "satisfaction_rate", "post_fill_rate"]
Grade = Literal["excellent", "good", "pass", "fail"]


class IndicatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,59}$", description="指标代码 (indicator code)")
    name: str = Field(min_length=1, max_length=200, description="指标名称 (name)")
    weight: Annotated[
        Decimal,
        Strict(False),
        PLAIN_DECIMAL,
        Field(gt=0, le=1, max_digits=7, decimal_places=6),
        decimal_in(share_pattern(6, above_zero=True), 1, 1),
    ] = Field(description="权重 (weight)")
    source: Literal["manual", "auto"] = Field(description="来源：人工评分或由数据自动计算 (manual or auto)")
    metric: Metric | None = Field(None, description="自动指标的计算口径 (the metric of an auto indicator)")


class IndicatorSystemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=200, description="指标体系名称 (name)")
    year: int = Field(ge=2000, le=2100, description="年度 (year)")
    indicators: list[IndicatorIn] = Field(min_length=1, max_length=50, description="指标 (indicators)")


class IndicatorSystemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="指标体系编号 (id)")
    name: str = Field(description="名称 (name)")
    year: int = Field(description="年度 (year)")
    indicators: list[IndicatorIn] = Field(description="指标 (indicators)")
    created_at: datetime = Field(description="创建时间 (created)")


class EvaluationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    contract_id: int = Field(ge=1, le=MAX_ID, description="合同 (contract)")
    period: str = Field(pattern=PERIOD, description="评价期间 YYYY 或 YYYY-Qn (period)")
    indicator_system_id: int = Field(ge=1, le=MAX_ID, description="指标体系 (indicator system)")
    manual_scores: dict[str, Score] = Field(
        default_factory=dict,
        max_length=50,
        description="人工指标得分 0–100 (scores of the manual indicators)",
    )


class IndicatorScore(BaseModel):
    code: str = Field(description="指标代码 (indicator)")
    source: Literal["manual", "auto"] = Field(description="来源 (source)")
    weight: Decimal = Field(description="权重 (weight)")
    value: Decimal | None = Field(description="自动指标的比率 0–1 (the auto metric's rate)")
    score: Decimal = Field(description="得分 0–100 (score)")


class EvaluationRead(BaseModel):
    id: int = Field(description="评价编号 (id)")
    contract_id: int = Field(description="合同 (contract)")
    region_code: str = Field(description="合同所在县 (county)")
    period: str = Field(description="期间 (period)")
    indicator_system_id: int = Field(description="指标体系 (indicator system)")
    scores: list[IndicatorScore] = Field(description="各指标得分 (per-indicator scores)")
    total: Decimal = Field(description="总分，四舍五入保留两位 (total, half-up, 2 decimals)")
    grade: Grade = Field(description="等次：优秀 ≥90、良好 ≥80、合格 ≥60、不合格 <60 (grade)")
    termination_recommended: bool = Field(description="连续两期不合格，建议解除合同 (two consecutive fails)")
    created_at: datetime = Field(description="评价时间 (evaluated)")


class SurveyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    region_code: str = Field(description="受访对象所在区划（县及以下） (county, township or village)")
    contract_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="所评价的服务合同 (contract, if known)"
    )
    score: int = Field(ge=1, le=5, description="满意度 1–5 (score; 4 and 5 count as satisfied)")
    channel: Literal["phone", "visit", "online", "paper"] = Field(
        description="渠道：电话回访、入户、网上、纸质问卷 (channel)"
    )
    comment: str | None = Field(None, max_length=2000, description="意见 (comment)")
    surveyed_on: Day | None = Field(None, description="调查日期 (default: today)")


class SurveyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="编号 (id)")
    region_code: str = Field(description="区划 (region)")
    contract_id: int | None = Field(description="合同 (contract)")
    score: int = Field(description="满意度 1–5 (score)")
    channel: str = Field(description="渠道 (channel)")
    comment: str | None = Field(description="意见 (comment)")
    surveyed_on: date = Field(description="调查日期 (date)")
    created_at: datetime = Field(description="登记时间 (recorded)")


class SatisfactionRate(BaseModel):
    region: str = Field(description="区划 (region)")
    contract_id: int | None = Field(description="合同 (contract)")
    surveys: int = Field(description="调查数 (surveys)")
    satisfied: int = Field(description="满意（4–5 分）数 (scores 4–5)")
    rate: Decimal | None = Field(description="满意度 = 满意数 / 调查数，4 位小数；无调查为 null (rate)")
