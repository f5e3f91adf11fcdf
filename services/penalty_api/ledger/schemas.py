"""Ledger answers: entries in their published (hashed) form, balances, verification, the summary."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.common.money import Money


class EntryRead(BaseModel):
    contract_id: str = Field(description="合同 (contract id, as hashed)")
    seq: int = Field(description="序号 (1, 2, 3 … per contract, no gaps)")
    entry_type: str = Field(description="类型 (deduction 扣减, reversal 冲回, settlement 结算)")
    amount: str = Field(
        description="金额，元 (two-decimal string, as hashed; settlement negative repays a credit)"
    )
    violation_id: str | None = Field(description="违规 (violation id)")
    appeal_id: str | None = Field(description="申诉 (appeal id)")
    payment_ref: str | None = Field(description="支付编号 (payment reference)")
    period: str | None = Field(description="所属期间 (period of the payment)")
    created_at: str = Field(description="记账时间 UTC (YYYY-MM-DDTHH:MM:SS.ffffffZ)")
    created_by: str = Field(description="记账人 (who)")
    request_id: str = Field(description="请求编号 (request id)")
    prev_hash: str = Field(description="前一条哈希 (previous hash; 64 zeros first)")
    hash: str = Field(description="本条哈希 sha256(prev_hash + canonical JSON)")


class EntryPage(BaseModel):
    items: list[EntryRead] = Field(description="台账条目，按序号 (entries by seq)")
    next_after_seq: int | None = Field(description="下一页的 after_seq (null at the end)")


class BalanceRead(BaseModel):
    contract_id: int = Field(description="合同 (contract)")
    deducted: Money = Field(description="累计扣减 (deducted)")
    reversed: Money = Field(description="累计冲回 (reversed)")
    settled: Money = Field(description="累计结算 (settled, net of credits repaid)")
    outstanding: Money = Field(description="待扣 max(0, deducted − reversed − settled)")
    credit: Money = Field(description="应退 max(0, −(deducted − reversed − settled))")


class BadEntry(BaseModel):
    contract_id: int = Field(description="合同 (contract)")
    seq: int = Field(description="序号 (seq)")


class VerifyRead(BaseModel):
    ok: bool = Field(description="全部哈希链完好 (every chain intact)")
    contracts_checked: int = Field(description="核验合同数 (contracts checked)")
    entries_checked: int = Field(description="核验条目数 (entries checked)")
    first_bad: BadEntry | None = Field(description="第一处断裂 (the first broken entry)")


class SummaryItem(BaseModel):
    contract_id: int = Field(description="合同 (contract)")
    contractor_id: int = Field(description="承接主体 (contractor)")
    county_code: str = Field(description="县 (county)")
    violations: dict[str, int] = Field(description="当年确认的违规数，按类型 (confirmed violations by kind)")
    deducted: Money = Field(description="当年扣减 (deducted in the year)")
    reversed: Money = Field(description="当年冲回 (reversed in the year)")
    outstanding: Money = Field(description="目前待扣 (outstanding now)")


class DeductionSummary(BaseModel):
    region: str = Field(description="区划 (region)")
    year: int = Field(description="年度 (year)")
    items: list[SummaryItem] = Field(description="按合同 (per contract)")
