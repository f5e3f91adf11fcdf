"""Request and response models of dispatches (派遣)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.common.money import Money, PositiveMoney
from services.common.months import Day

PostingLevel = Literal["county", "township", "village", "institution"]
EndReason = Literal["replaced", "resigned", "contract_ended", "removed"]
LEVEL_FIELD = (
    "派驻层级 (posting level): county 县级民政部门, township 乡镇（街道）, village 村（社区）, "
    "institution 救助机构"
)


class Declarations(BaseModel):
    """The contractor's written confirmations (书面确认) for a village or community post."""

    model_config = ConfigDict(extra="forbid", strict=True)

    health_confirmed: bool = Field(description="身体健康 (good health confirmed)")
    law_abiding_confirmed: bool = Field(description="拥护党的领导、遵纪守法 (law-abidance confirmed)")
    has_other_job: bool = Field(description="有其他兼职 (holds another job)")


class DispatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    contract_id: int = Field(ge=1, le=2**63 - 1, description="合同 (an active contract of the caller)")
    person_id: int = Field(ge=1, le=2**63 - 1, description="人员 (the person dispatched)")
    posting_level: PostingLevel = Field(description=LEVEL_FIELD)
    region_code: str = Field(max_length=12, description="派驻单位区划 (where the worker serves)")
    monthly_wage: PositiveMoney = Field(description="月工资，元 (monthly wage)")
    start_date: Day = Field(description="派遣起始日 (first day)")
    labor_contract_signed_on: Day | None = Field(
        None, description="劳动合同签订日 (labour contract signed; required, on or before start_date)"
    )
    declarations: Declarations | None = Field(
        None, description="书面确认 (required for village and community posts)"
    )


class DispatchEnd(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    end_date: Day = Field(description="派遣终止日，含 (last day, inclusive)")
    reason: EndReason = Field(
        description="原因 (replaced 更换, resigned 辞职, contract_ended 合同终止, removed 清退)"
    )


class DispatchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="派遣编号 (dispatch id)")
    contract_id: int = Field(description="合同 (contract)")
    person_id: int = Field(description="人员 (person)")
    posting_level: PostingLevel = Field(description=LEVEL_FIELD)
    region_code: str = Field(description="派驻单位区划 (posting region)")
    monthly_wage: Money = Field(description="月工资，元 (monthly wage)")
    start_date: date = Field(description="起始日 (first day)")
    end_date: date | None = Field(description="终止日 (last day; null while ongoing)")
    end_reason: EndReason | None = Field(description="终止原因 (why it ended)")
    labor_contract_signed_on: date = Field(description="劳动合同签订日 (labour contract signed)")
    declarations: Declarations | None = Field(description="书面确认 (confirmations)")
    created_at: datetime = Field(description="创建时间 (created at)")
