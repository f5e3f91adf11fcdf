"""Request and response models of payments."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.common.money import Money, PositiveMoney

PERIOD = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$"


class PaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    period: str = Field(pattern=PERIOD, description="所属期间 YYYY-MM（按月）或 YYYY-Qn（按季） (period)")
    gross_amount: PositiveMoney = Field(description="应付金额，元 (gross amount before deductions)")


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="支付编号 (payment id)")
    contract_id: int = Field(description="合同 (contract)")
    period: str = Field(description="所属期间 (period)")
    gross_amount: Money = Field(description="应付金额 (gross)")
    payment_ref: str = Field(description="结算编号：penalty_api 以此去重 (the settlement's key)")
    status: Literal["pending", "completed"] = Field(
        description="状态 (pending 已登记、待结算, completed 已结算)"
    )
    deductions_applied: Money | None = Field(description="本次抵扣 (deductions applied)")
    credit_repaid: Money | None = Field(description="本次退还 (credit repaid)")
    net_amount: Money | None = Field(description="实付 (net = gross − applied + repaid)")
    created_at: datetime = Field(description="登记时间 (recorded)")
    completed_at: datetime | None = Field(description="结算完成时间 (settled)")
