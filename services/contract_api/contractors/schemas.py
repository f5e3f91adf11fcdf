"""Request and response models of contractors and their debarments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.common.months import Day

OrgType = Literal[
    "social_organization", "public_institution", "enterprise", "other_institution", "government_body"
]
Authority = Literal[
    "civil_affairs",
    "state_council_exempt",
    "market_regulation",
    "industry_authority",
    "establishment_office",
    "other",
]
Category = Literal["public_welfare_1", "public_welfare_2", "production_operation", "administrative"]

ORG_TYPE_FIELD = (
    "组织类型 (organisation type): social_organization 社会组织, public_institution 事业单位, "
    "enterprise 企业, other_institution 其他机构, government_body 党政机关"
)
AUTHORITY_FIELD = (
    "登记管理机关 (registered with): civil_affairs 民政, state_council_exempt 经国务院批准免予登记, "
    "market_regulation 市场监管, industry_authority 行业主管部门, establishment_office 机构编制, other 其他"
)
CATEGORY_FIELD = (
    "事业单位类别 (public institutions only): public_welfare_1 公益一类, public_welfare_2 公益二类, "
    "production_operation 生产经营类, administrative 行政类"
)


class ContractorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=200, description="名称 (registered name)")
    uscc: str = Field(max_length=20, description="统一社会信用代码 (GB 32100, 18 characters)")
    org_type: OrgType = Field(description=ORG_TYPE_FIELD)
    registration_authority: Authority = Field(description=AUTHORITY_FIELD)
    registered_on: Day = Field(description="成立（登记）日期 (date of registration)")
    public_institution_category: Category | None = Field(None, description=CATEGORY_FIELD)
    employees: int = Field(ge=0, le=10_000_000, description="从业人员数 (employees)")
    social_insurance_enrollees: int = Field(
        ge=0, le=10_000_000, description="参加社会保险人数 (employees enrolled in social insurance)"
    )
    address: str | None = Field(None, max_length=300, description="办公地址 (office address)")
    region_code: str = Field(description="所在区划 (county or below where it is registered; decides scope)")


class Reason(BaseModel):
    code: str = Field(description="不符合条件代码 (failing condition)")
    message: str = Field(description="说明 (explanation)")


class ContractorRead(BaseModel):
    id: int = Field(description="承接主体编号 (contractor id; the org_id of its users)")
    name: str = Field(description="名称 (name)")
    uscc: str = Field(description="统一社会信用代码 (unified social credit code)")
    org_type: OrgType = Field(description=ORG_TYPE_FIELD)
    registration_authority: Authority = Field(description=AUTHORITY_FIELD)
    registered_on: date = Field(description="成立（登记）日期 (date of registration)")
    public_institution_category: Category | None = Field(description=CATEGORY_FIELD)
    employees: int = Field(description="从业人员数 (employees)")
    social_insurance_enrollees: int = Field(description="参加社会保险人数 (enrolled in social insurance)")
    address: str | None = Field(description="办公地址 (office address)")
    region_code: str = Field(description="所在区划 (region code)")
    eligible: bool = Field(description="是否具备承接资格 (may be hired, §三(二))")
    ineligibility_reasons: list[Reason] = Field(description="不具备资格的全部原因 (every reason it may not)")
    risk_flags: list[str] = Field(
        description="皮包公司风险提示 (shell-company flags as of today: NO_EMPLOYEES, "
        "NO_SOCIAL_INSURANCE_ENROLLEES, REGISTERED_UNDER_6_MONTHS, NO_ADDRESS)"
    )
    debarred: bool = Field(description="是否处于禁止参与期内 (under a debarment in force today)")
    version: int = Field(description="版本 (version, for If-Match)")
    created_at: datetime = Field(description="登记时间 (recorded at)")


class DebarmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="禁止参与记录编号 (debarment id)")
    contractor_id: int = Field(description="承接主体编号 (contractor id)")
    contract_id: int | None = Field(
        description="被解除的合同 (the contract whose serious termination caused it)"
    )
    region_code: str = Field(description="作出决定的县 (county that terminated)")
    reason: str = Field(description="原因 (reason)")
    since: date = Field(description="起始日 (from, the termination date)")
    until: date = Field(description="截止日，当日起解除 (until; free again from this day)")
    in_force: bool = Field(description="今日是否有效 (in force today)")


class PublicDebarment(BaseModel):
    contractor_name: str = Field(description="承接主体名称 (contractor name)")
    uscc: str = Field(description="统一社会信用代码 (unified social credit code)")
    region_code: str = Field(description="作出决定的县 (county that terminated)")
    reason: str = Field(description="原因 (reason)")
    since: date = Field(description="起始日 (from)")
    until: date = Field(description="截止日 (until)")


class PublicDebarmentList(BaseModel):
    items: list[PublicDebarment] = Field(description="禁止参与名单 (debarments in force today)")
