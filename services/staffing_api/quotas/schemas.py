"""Request and response models of rule sets and quotas."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.staffing_api.quotas.rules import RuleParameters

QuotaLevel = Literal["county", "township", "village"]


class RuleSetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="名称 (name)")
    document: str = Field(min_length=1, max_length=300, description="依据文件 (source document)")
    effective_from: date = Field(description="生效日期 (effective from, inclusive)")
    parameters: RuleParameters = Field(description="配备标准参数 (thresholds, divisors, tiers, rounding)")


class RuleSetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="规则集编号 (rule set id)")
    name: str = Field(description="名称 (name)")
    document: str = Field(description="依据文件 (source document)")
    effective_from: date = Field(description="生效日期 (effective from)")
    parameters: RuleParameters = Field(description="配备标准参数 (parameters)")


class QuotaCompute(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: QuotaLevel = Field(description="层级 (county 县级, township 乡镇, village 村/社区)")
    dibao_recipients: int | None = Field(None, ge=0, description="低保对象数 (county and township)")
    population: int | None = Field(None, ge=0, description="常住人口 (village or community)")
    rule_set_id: int | None = Field(None, description="规则集 (default: the one in effect today)")


class QuotaComputed(BaseModel):
    required_min: int = Field(description="最少配备人数 (minimum staff, 不少于)")
    allowed_max: int | None = Field(description="最多配备人数 (ceiling; null for counties)")
    rule_set_id: int = Field(description="所用规则集 (rule set applied)")
