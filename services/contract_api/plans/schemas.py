"""Request and response models of purchase plans."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.common.ids import MAX_ID
from services.common.money import Money

FundingSource = Literal["provincial_special_subsidy", "prefecture_funds", "county_funds"]
PlanStatus = Literal["draft", "submitted", "approved", "rejected"]
FUNDING_FIELD = (
    "资金来源 (funding): provincial_special_subsidy 民政事业专项补助资金, prefecture_funds 州市资金, "
    "county_funds 县级资金"
)


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    county_code: str = Field(description="县 (the county that buys)")
    year: int = Field(ge=2019, le=2100, description="年度 (budget year)")
    need_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=500, description="纳入的已采纳需求 (accepted needs of the county)"
    )
    funding_source: FundingSource = Field(description=FUNDING_FIELD)


class PlanApprove(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    justifications: dict[str, str] = Field(
        default_factory=dict, description="对每项提示的书面说明 (warning code → written justification)"
    )


class PlanReject(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str = Field(min_length=1, max_length=2000, description="不同意的理由 (why not)")


class VacantUnit(BaseModel):
    region_code: str = Field(description="单位 (county or township)")
    authorized: int = Field(description="核定编制 (authorized posts)")
    in_post: int = Field(description="在编在岗 (established staff in post today)")


class PlanWarning(BaseModel):
    code: str = Field(description="提示代码 (ESTABLISHMENT_VACANCIES: established posts still vacant, §二)")
    units: list[VacantUnit] = Field(description="涉及单位 (units concerned)")


class PlanRead(BaseModel):
    id: int = Field(description="计划编号 (plan id)")
    county_code: str = Field(description="县 (county)")
    year: int = Field(description="年度 (year)")
    funding_source: FundingSource = Field(description=FUNDING_FIELD)
    need_ids: list[int] = Field(description="纳入的需求 (needs in the plan)")
    total: Money = Field(description="合计，元 (sum of the needs)")
    status: PlanStatus = Field(
        description="状态 (draft 草稿, submitted 已报送, approved 已同意, rejected 未同意)"
    )
    warnings: list[PlanWarning] = Field(description="提示 (warnings approval must justify)")
    justifications: dict[str, str] | None = Field(description="审批说明 (the government's justifications)")
    reject_reason: str | None = Field(description="不同意的理由 (reason for rejection)")
    allowed_actions: list[str] = Field(description="当前可执行的操作 (actions allowed now)")
    version: int = Field(description="版本 (version)")
    created_at: datetime = Field(description="创建时间 (created at)")
    updated_at: datetime = Field(description="更新时间 (updated at)")
