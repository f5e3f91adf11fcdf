"""Request and response models of violations and the escalation summary."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from services.common.money import PLAIN_DECIMAL, Money, decimal_in
from services.common.months import Day

Kind = Literal["falsification", "carelessness", "improper_operation"]
KIND_FIELD = "类型 (falsification 弄虚作假, carelessness 马虎草率, improper_operation 违规操作)"
# Its range (1.00–3.00, two decimals) is a rule of the notice: MULTIPLIER_OUT_OF_RANGE (rules.py).
Multiplier = Annotated[
    Decimal, Strict(False), PLAIN_DECIMAL, decimal_in(r"^-?[0-9]+(\.[0-9]+)?$", -(10**6), 10**6)
]


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=200, description="证据名称 (name)")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="文件 SHA-256 (hex, lower case)")
    url: str | None = Field(None, max_length=1000, description="存放地址 (where the file is kept)")


class ViolationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    dispatch_id: int = Field(ge=1, le=2**63 - 1, description="派遣 (the dispatched worker's dispatch)")
    kind: Kind = Field(description=KIND_FIELD)
    occurred_on: Day = Field(description="发生日期 (when it happened)")
    discovered_on: Day = Field(description="发现日期 (when it was found)")
    description: str = Field(min_length=1, max_length=4000, description="情况说明 (what happened)")
    evidence: list[Evidence] = Field(default_factory=list, max_length=50, description="证据 (evidence files)")
    multiplier: Multiplier | None = Field(
        None, description="扣减倍数 1.00–3.00 (county official: confirms at once)"
    )
    decided_on: Day | None = Field(None, description="决定日期 (with multiplier; default today)")
    serious_social_impact: bool = Field(False, description="造成恶劣社会影响 (serious social impact)")


class Confirm(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    multiplier: Multiplier = Field(description="扣减倍数 1.00–3.00，最多两位小数 (multiplier)")
    decided_on: Day | None = Field(
        None, description="书面决定日期 (default today; the appeal window counts from it)"
    )


class Dismiss(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str = Field(min_length=1, max_length=4000, description="不予认定理由 (why it is dismissed)")
    decided_on: Day | None = Field(None, description="决定日期 (default today)")


class ViolationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="违规编号 (violation id)")
    dispatch_id: int = Field(description="派遣 (dispatch)")
    contract_id: int = Field(description="合同 (contract)")
    region_code: str = Field(description="派驻区划 (posting region)")
    kind: Kind = Field(description=KIND_FIELD)
    occurred_on: date = Field(description="发生日期 (occurred)")
    discovered_on: date = Field(description="发现日期 (discovered)")
    description: str = Field(description="情况说明 (description)")
    evidence: list[Evidence] = Field(description="证据 (evidence)")
    serious_social_impact: bool = Field(description="造成恶劣社会影响 (serious social impact)")
    status: Literal["reported", "confirmed", "dismissed", "overturned"] = Field(
        description="状态 (reported 已报告, confirmed 已认定, dismissed 不予认定, overturned 申诉撤销)"
    )
    base: Money | None = Field(
        description="扣减基数：月工资或补助标准 (base: monthly wage or subsidy standard)"
    )
    multiplier: Decimal | None = Field(description="扣减倍数 (multiplier)")
    amount: Money | None = Field(description="扣减金额 = 倍数 × 基数，元 (deduction)")
    ledger_seq: int | None = Field(description="台账序号 (the deduction's ledger seq)")
    decided_on: date | None = Field(description="决定日期 (decided on)")
    dismiss_reason: str | None = Field(description="不予认定理由 (why dismissed)")
    version: int = Field(description="版本 (version)")
    created_at: datetime = Field(description="创建时间 (created)")


class ViolationSummary(BaseModel):
    contract_id: int = Field(description="合同 (contract)")
    since: date = Field(description="统计起始日：12 个月前 (window start)")
    as_of: date = Field(description="统计截止日 (window end)")
    by_kind: dict[str, int] = Field(description="12 个月内认定的违规数，按类型 (confirmed, by kind)")
    termination_recommended: bool = Field(
        description="建议解除合同：有造成恶劣社会影响的违规，或 12 个月内 3 起以上弄虚作假"
    )
