"""Request and response models of appeals (申诉)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AppealCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    grounds: str = Field(min_length=1, max_length=8000, description="申诉理由 (grounds)")


class AppealDecide(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    outcome: Literal["upheld", "rejected"] = Field(description="结果 (upheld 成立: reversed; rejected 驳回)")
    reason: str = Field(min_length=1, max_length=4000, description="理由 (reason)")


class AppealRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="申诉编号 (appeal id)")
    violation_id: int = Field(description="违规 (violation)")
    contract_id: int = Field(description="合同 (contract)")
    grounds: str = Field(description="申诉理由 (grounds)")
    status: Literal["pending", "upheld", "rejected"] = Field(
        description="状态 (pending 待决定, upheld 成立, rejected 驳回)"
    )
    reason: str | None = Field(description="决定理由 (reason of the decision)")
    decided_at: datetime | None = Field(description="决定时间 (decided at)")
    created_at: datetime = Field(description="提出时间 (filed at)")
