"""Request and response models of persons, the established roster and assistant eligibility."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.common.ids import MAX_ID
from services.common.months import Day

Education = Literal[
    "none",
    "primary",
    "junior_high",
    "senior_high",
    "secondary_vocational",
    "junior_college",
    "bachelor",
    "postgraduate",
]
EDUCATION_FIELD = (
    "学历 (education): none 无, primary 小学, junior_high 初中, senior_high 高中, "
    "secondary_vocational 中专/中职, junior_college 大专, bachelor 本科, postgraduate 研究生"
)


class PersonCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=100, description="姓名 (name)")
    id_number: str = Field(max_length=18, description="居民身份证号码 (18-character national ID number)")
    region_code: str = Field(description="登记区划 (county or a unit below it; decides scope)")
    gender: Literal["female", "male"] | None = Field(None, description="性别 (default: from the ID number)")
    education: Education = Field(description=EDUCATION_FIELD)
    phone: str | None = Field(None, pattern=r"^1[3-9][0-9]{9}$", description="手机号码 (mobile number)")


class PersonRead(BaseModel):
    id: int = Field(description="人员编号 (person id)")
    name: str = Field(description="姓名 (name)")
    id_number: str = Field(
        description="身份证号码，除本县民政部门外均脱敏 (masked except for the person's own county)"
    )
    birth_date: date = Field(description="出生日期 (birth date, from the ID number)")
    age: int = Field(description="周岁年龄 (age in full years today)")
    gender: str | None = Field(description="性别 (gender)")
    education: Education = Field(description=EDUCATION_FIELD)
    phone: str | None = Field(description="手机号码，脱敏规则同身份证号 (mobile number, masked likewise)")
    region_code: str = Field(description="登记区划 (region code)")
    created_at: datetime = Field(description="登记时间 (created at)")


class PostCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    person_id: int = Field(ge=1, le=MAX_ID, description="人员编号 (person id)")
    region_code: str = Field(description="在编单位区划：县或乡镇 (county or township)")
    since: Day = Field(description="在岗起始日 (on the roster since)")


class PostEnd(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    until: Day = Field(description="离岗日（含） (last day on the roster, inclusive)")


class PostRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="编制人员记录编号 (roster entry id)")
    person_id: int = Field(description="人员编号 (person id)")
    region_code: str = Field(description="在编单位区划 (county or township)")
    since: date = Field(description="在岗起始日 (since)")
    until: date | None = Field(description="离岗日 (until, inclusive; null while in post)")


class EligibilityCheck(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    person_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="人员编号 (person id; or give id_number)"
    )
    id_number: str | None = Field(
        None, max_length=40, description="身份证号码 (ID number; or give person_id)"
    )
    education: Education = Field(description=EDUCATION_FIELD)
    health_confirmed: bool = Field(description="身体健康 (health confirmed)")
    law_abiding_confirmed: bool = Field(description="拥护党的领导、遵纪守法 (law-abiding confirmed)")
    has_other_job: bool = Field(description="是否兼职其他工作 (has another job; 不得再兼职)")
    on_date: Day = Field(description="判定日期 (the day the conditions are judged on)")

    @model_validator(mode="after")
    def one_identity(self) -> EligibilityCheck:
        if (self.person_id is None) == (self.id_number is None):
            raise ValueError("give exactly one of person_id and id_number")
        return self


class Reason(BaseModel):
    code: str = Field(description="不符合条件代码 (failing condition)")
    message: str = Field(description="说明 (explanation)")


class EligibilityResult(BaseModel):
    eligible: bool = Field(description="是否符合社会救助协理员条件 (eligible as an assistant)")
    age: int | None = Field(description="判定日周岁年龄 (age on on_date; null for an invalid ID number)")
    reasons: list[Reason] = Field(description="全部不符合的条件 (every failing condition)")
