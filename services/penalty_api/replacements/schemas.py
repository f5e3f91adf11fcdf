"""Request and response models of replacement requests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.common.months import Day

Status = Literal["open", "fulfilled", "overdue"]


class ReplacementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    dispatch_id: int = Field(ge=1, le=2**63 - 1, description="被更换的派遣 (dispatch to replace)")
    violation_id: int | None = Field(None, ge=1, le=2**63 - 1, description="相关违规 (violation, if any)")
    reason: str = Field(min_length=1, max_length=4000, description="原因 (reason)")
    due_date: Day | None = Field(None, description="期限 (default 15 days from today)")


class Fulfil(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    new_dispatch_id: int = Field(ge=1, le=2**63 - 1, description="新的派遣 (the replacement's dispatch)")


class ReplacementRead(BaseModel):
    id: int = Field(description="编号 (id)")
    dispatch_id: int = Field(description="被更换的派遣 (dispatch replaced)")
    contract_id: int = Field(description="合同 (contract)")
    region_code: str = Field(description="派驻区划 (posting region)")
    violation_id: int | None = Field(description="相关违规 (violation)")
    reason: str = Field(description="原因 (reason)")
    due_date: date = Field(description="期限 (due)")
    new_dispatch_id: int | None = Field(description="新的派遣 (replacement)")
    fulfilled_at: datetime | None = Field(description="完成时间 (fulfilled at)")
    status: Status = Field(description="状态 (open 待更换, fulfilled 已更换, overdue 逾期)")
    created_at: datetime = Field(description="创建时间 (created)")
