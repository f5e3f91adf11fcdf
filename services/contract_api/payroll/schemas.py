"""Request and response models of payroll records and the compliance report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.common.money import Money
from services.common.months import Day

Flag = Literal["PAYROLL_MISSING", "UNDERPAID", "SOCIAL_INSURANCE_MISSING"]


class PayrollPut(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    gross_wage: Money = Field(description="应发工资，元 (gross wage paid for the month)")
    paid_on: Day = Field(description="发放日 (day paid)")
    social_insurance_paid: bool = Field(description="已缴纳社会保险 (social insurance paid for the month)")


class PayrollRead(BaseModel):
    dispatch_id: int = Field(description="派遣 (dispatch)")
    month: str = Field(description="所属月份 YYYY-MM (month paid for)")
    gross_wage: Money = Field(description="应发工资，元 (gross wage)")
    paid_on: date = Field(description="发放日 (day paid)")
    social_insurance_paid: bool = Field(description="已缴纳社会保险 (social insurance paid)")
    version: int = Field(description="版本 (version, for If-Match)")
    updated_at: datetime = Field(description="更新时间 (updated at)")


class ComplianceItem(BaseModel):
    dispatch_id: int = Field(description="派遣 (dispatch)")
    contract_id: int = Field(description="合同 (contract)")
    contractor_id: int = Field(description="承接主体 (contractor)")
    region_code: str = Field(description="派驻区划 (posting region)")
    posting_level: str = Field(description="派驻层级 (posting level)")
    monthly_wage: Money = Field(description="约定月工资，元 (agreed monthly wage)")
    gross_wage: Money | None = Field(description="实发工资，元 (wage recorded; null: no record)")
    paid_on: date | None = Field(description="发放日 (day paid)")
    social_insurance_paid: bool | None = Field(description="已缴纳社会保险 (social insurance paid)")
    flags: list[Flag] = Field(
        description="问题 (PAYROLL_MISSING 未按时发放, UNDERPAID 低于约定工资, "
        "SOCIAL_INSURANCE_MISSING 未缴社保)"
    )


class ComplianceCounts(BaseModel):
    dispatches: int = Field(description="当月在岗派遣数 (dispatches that ran in the month)")
    compliant: int = Field(description="无问题 (without a flag)")
    payroll_missing: int = Field(description="未按时发放 (PAYROLL_MISSING)")
    underpaid: int = Field(description="低于约定工资 (UNDERPAID)")
    social_insurance_missing: int = Field(description="未缴社保 (SOCIAL_INSURANCE_MISSING)")


class PayrollCompliance(BaseModel):
    region: str = Field(description="区划 (region)")
    month: str = Field(description="所属月份 YYYY-MM (month checked)")
    as_of: date = Field(description="检查日 (day of the check)")
    deadline: date = Field(description="发放期限 (the 15th of the following month)")
    counts: ComplianceCounts = Field(description="汇总 (counts)")
    items: list[ComplianceItem] = Field(description="派遣明细，按派遣编号 (per dispatch, by id)")
