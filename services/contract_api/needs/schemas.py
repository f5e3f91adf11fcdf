"""Request and response models of purchase needs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.common.money import Money, PositiveMoney

Unit = Literal["person_month", "person", "service"]
PostingLevel = Literal["county", "township", "village", "institution"]
NeedStatus = Literal["draft", "submitted", "accepted", "returned"]


class NeedItemWrite(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    catalog_code: str = Field(max_length=60, description="服务目录代码 (service catalog code)")
    quantity: int = Field(ge=1, le=1_000_000, description="数量 (quantity)")
    unit: Unit = Field(description="单位 (unit): person_month 人·月, person 人, service 项")
    posting_level: PostingLevel | None = Field(None, description="派驻层级 (where the staff would work)")
    estimated_amount: PositiveMoney = Field(description="预算金额，元 (estimated amount, yuan)")


class NeedCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    region_code: str = Field(description="需求单位 (the township, or the county itself)")
    year: int = Field(ge=2019, le=2100, description="年度 (budget year)")
    items: list[NeedItemWrite] = Field(min_length=1, max_length=100, description="需求明细 (lines)")
    justification: str = Field(min_length=1, max_length=4000, description="需求理由 (why it is needed)")


class NeedReturn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str = Field(min_length=1, max_length=2000, description="退回原因 (why it goes back)")


class NeedItemRead(BaseModel):
    catalog_code: str = Field(description="服务目录代码 (catalog code)")
    quantity: int = Field(description="数量 (quantity)")
    unit: Unit = Field(description="单位 (unit)")
    posting_level: PostingLevel | None = Field(description="派驻层级 (posting level)")
    estimated_amount: Money = Field(description="预算金额，元 (estimated amount)")


class NeedRead(BaseModel):
    id: int = Field(description="需求编号 (need id)")
    region_code: str = Field(description="需求单位 (requesting unit)")
    county_code: str = Field(description="所属县 (county that decides)")
    year: int = Field(description="年度 (year)")
    items: list[NeedItemRead] = Field(description="需求明细 (lines)")
    estimated_total: Money = Field(description="预算合计，元 (sum of the lines)")
    justification: str = Field(description="需求理由 (justification)")
    status: NeedStatus = Field(
        description="状态 (draft 草稿, submitted 已报送, accepted 已采纳, returned 已退回)"
    )
    return_reason: str | None = Field(description="退回原因 (why it was returned)")
    allowed_actions: list[str] = Field(description="当前可执行的操作 (actions allowed now)")
    version: int = Field(description="版本 (version)")
    created_at: datetime = Field(description="创建时间 (created at)")
    updated_at: datetime = Field(description="更新时间 (updated at)")
