"""Request and response models of settlements."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.common.money import Money, PositiveMoney

PERIOD = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$"


class SettlementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    contract_id: int = Field(ge=1, le=2**63 - 1, description="合同 (contract)")
    period: str = Field(pattern=PERIOD, description="所属期间 YYYY-MM 或 YYYY-Qn (period paid for)")
    gross_amount: PositiveMoney = Field(description="应付金额，元 (gross amount of the payment)")
    payment_ref: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[!-~]+$",
        description="支付编号 (the payment's reference: its key)",
    )


class SettlementRead(BaseModel):
    payment_ref: str = Field(description="支付编号 (payment reference)")
    contract_id: int = Field(description="合同 (contract)")
    period: str = Field(description="所属期间 (period)")
    gross_amount: Money = Field(description="应付金额 (gross)")
    deductions_applied: Money = Field(description="本次抵扣 (deductions applied)")
    credit_repaid: Money = Field(description="本次退还 (credit repaid)")
    net_amount: Money = Field(description="实付 = 应付 − 抵扣 + 退还 (net)")
    carried_forward: Money = Field(description="结转待扣 (still owed after this payment)")
    ledger_seq: int = Field(description="台账序号 (the settlement entry)")
