"""Request and response models of contracts and their transitions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.common.money import Money, PositiveMoney
from services.common.months import Day

PostingLevel = Literal["county", "township", "village", "institution"]
Status = Literal[
    "draft", "authorized", "signed", "filed", "acknowledged", "active", "suspended", "completed", "terminated"
]
STATUS_FIELD = (
    "状态 (draft 草稿, authorized 已授权, signed 已签订, filed 已报备工作方案, acknowledged 已备案, "
    "active 履行中, suspended 临时接管中, completed 已完成, terminated 已解除)"
)


class Post(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    posting_level: PostingLevel = Field(description="派驻层级 (posting level)")
    region_code: str = Field(description="派驻单位区划 (where the staff work)")
    count: int = Field(ge=1, le=10_000, description="岗位数 (posts)")
    monthly_wage: PositiveMoney = Field(description="月工资，元 (monthly wage)")
    subsidy_standard: Money | None = Field(None, description="补助标准，元/月 (subsidy standard, if any)")


class TakeoverPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    unit: str = Field(min_length=1, max_length=200, description="接管单位 (unit that takes over)")
    contact: str = Field(min_length=1, max_length=200, description="联系人 (contact)")
    summary: str = Field(min_length=1, max_length=4000, description="预案要点 (summary)")


class ContractPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    start_date: Day | None = Field(None, description="起始日，含 (first day, inclusive)")
    end_date: Day | None = Field(None, description="终止日，含 (last day, inclusive; ≤ 3 years)")
    posts: list[Post] | None = Field(None, max_length=2000, description="岗位 (posts)")
    payment_schedule: Literal["monthly", "quarterly"] | None = Field(
        None, description="支付周期 (payment schedule)"
    )
    takeover_plan: TakeoverPlan | None = Field(None, description="临时接管预案 (takeover plan, §六(二))")


class WorkPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    work_plan: str = Field(
        min_length=1, max_length=20_000, description="工作方案 (the contractor's work plan)"
    )


class Takeover(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    unit: str = Field(
        min_length=1, max_length=200, description="接管单位 (the unit serving recipients meanwhile)"
    )
    reason: str = Field(min_length=1, max_length=4000, description="原因 (why the contractor cannot serve)")


class Termination(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str = Field(min_length=1, max_length=4000, description="解除原因 (reason)")
    serious: bool = Field(description="情节严重、造成恶劣社会影响 (serious: the contractor is debarred)")
    debar_months: int | None = Field(None, description="禁止参与月数 12–36，默认 36 (debarment, months)")


class ContractRead(BaseModel):
    id: int = Field(description="合同编号 (contract id)")
    county_code: str = Field(description="购买主体所在县 (purchaser county)")
    contractor_id: int = Field(description="承接主体 (contractor)")
    procurement_id: int | None = Field(description="采购项目 (procurement)")
    bid_id: int | None = Field(description="中标投标 (winning bid)")
    amount: Money | None = Field(description="合同金额，元 (amount)")
    status: Status = Field(description=STATUS_FIELD)
    start_date: date | None = Field(description="起始日 (first day)")
    end_date: date | None = Field(description="终止日 (last day)")
    posts: list[Post] = Field(description="岗位 (posts)")
    payment_schedule: str | None = Field(description="支付周期 (payment schedule)")
    takeover_plan: TakeoverPlan | None = Field(description="临时接管预案 (takeover plan)")
    signed_on: date | None = Field(description="签订日 (day signed)")
    work_plan: str | None = Field(description="工作方案 (work plan)")
    acknowledged_by: str | None = Field(description="备案人 (who acknowledged the filing)")
    takeover: dict[str, str] | None = Field(description="临时接管 (the takeover in force)")
    termination: dict[str, object] | None = Field(description="解除情况 (termination)")
    termination_recommended: bool = Field(
        description="建议解除：连续两期绩效评价不合格 (two consecutive failed evaluations)"
    )
    allowed_actions: list[str] = Field(description="当前可执行的操作 (actions allowed now)")
    version: int = Field(description="版本 (version, for If-Match)")
    updated_at: datetime = Field(description="更新时间 (updated at)")
