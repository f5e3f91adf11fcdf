"""Request and response models of rule sets and quotas."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.common.ids import MAX_ID
from services.common.money import Money, SignedMoney
from services.common.months import MONTH_PATTERN, Day
from services.common.regions import PEOPLE
from services.staffing_api.quotas.rules import RuleParameters

QuotaLevel = Literal["county", "township", "village"]


class RuleSetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=200, description="名称 (name)")
    document: str = Field(min_length=1, max_length=300, description="依据文件 (source document)")
    effective_from: Day = Field(description="生效日期 (effective from, inclusive)")
    parameters: RuleParameters = Field(description="配备标准参数 (thresholds, divisors, tiers, rounding)")


class RuleSetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="规则集编号 (rule set id)")
    name: str = Field(description="名称 (name)")
    document: str = Field(description="依据文件 (source document)")
    effective_from: date = Field(description="生效日期 (effective from)")
    parameters: RuleParameters = Field(description="配备标准参数 (parameters)")


class QuotaCompute(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    level: QuotaLevel = Field(description="层级 (county 县级, township 乡镇, village 村/社区)")
    dibao_recipients: int | None = Field(
        None, ge=0, le=PEOPLE, description="低保对象数 (county and township)"
    )
    population: int | None = Field(None, ge=0, le=PEOPLE, description="常住人口 (village or community)")
    rule_set_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="规则集 (default: the one in effect today)"
    )


class QuotaComputed(BaseModel):
    required_min: int = Field(description="最少配备人数 (minimum staff, 不少于)")
    allowed_max: int | None = Field(description="最多配备人数 (ceiling; null for counties)")
    rule_set_id: int = Field(description="所用规则集 (rule set applied)")


class UnitQuota(BaseModel):
    region_code: str = Field(description="区划代码 (county, township or village)")
    level: str = Field(description="层级 (level)")
    as_of: str = Field(description="统计月份 (month, YYYY-MM; counts as of its last day)")
    rule_set_id: int = Field(description="所用规则集 (rule set in effect)")
    dibao_recipients: int | None = Field(None, description="低保对象数 (counties and townships)")
    population: int | None = Field(None, description="常住人口 (villages)")
    stats_missing: bool = Field(
        description="无统计数，按 0 计算 (no figures at or before as_of; computed with 0)"
    )
    required_min: int = Field(description="最少配备人数 (minimum)")
    allowed_max: int | None = Field(description="最多配备人数 (ceiling; null for counties)")
    established: int = Field(description="在编在岗人数 (established staff in post)")
    dispatched: int = Field(description="派遣在岗人数 (active dispatches; a village's assistants)")
    total: int = Field(description="合计 (established + dispatched)")
    shortfall: int = Field(description="缺口 (max(0, minimum − total))")
    status: Literal["below_minimum", "within_quota", "above_maximum"] = Field(description="配备状态 (status)")


class UnitQuotaPage(BaseModel):
    items: list[UnitQuota] = Field(description="各单位配备情况 (units, by code)")
    next_cursor: str | None = Field(description="下一页游标 (cursor of the next page)")


class LevelSummary(BaseModel):
    units: int = Field(description="单位数 (units)")
    below_minimum: int = Field(description="低于最低配备 (below the minimum)")
    within_quota: int = Field(description="符合标准 (within the quota)")
    above_maximum: int = Field(description="超过上限 (above the ceiling)")
    shortfall: int = Field(description="缺口合计 (total shortfall)")
    stats_missing: int = Field(description="缺少统计数的单位 (units without figures)")


class Coverage(BaseModel):
    villages: int = Field(description="村（社区）数 (villages and communities)")
    covered: int = Field(description="已配备协理员的村（社区） (with at least one assistant)")
    share: float = Field(description="覆盖率 (covered ÷ villages, 4 decimals; 1 when there are none)")


class SummaryPart(BaseModel):
    region_code: str = Field(description="区划代码 (region code)")
    name: str = Field(description="名称 (name)")
    levels: dict[str, LevelSummary] = Field(description="按层级汇总 (by level: county, township, village)")
    village_coverage: Coverage = Field(description="协理员覆盖 (villages covered by an assistant)")


class QuotaSummary(SummaryPart):
    as_of: str = Field(description="统计月份 (month, YYYY-MM)")
    rule_set_id: int = Field(description="所用规则集 (rule set in effect)")
    children: list[SummaryPart] = Field(description="按下级区划分解 (the same, per child region)")


class QuotaSimulationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    parameters: RuleParameters = Field(
        description="拟议配备标准参数 (the draft's parameters, as in a rule set)"
    )
    region: str | None = Field(None, description="区划 (region; default: your own)")
    as_of: str | None = Field(
        None, pattern=MONTH_PATTERN, description="统计月份 YYYY-MM (default: this month)"
    )
    baseline_rule_set_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="对照规则集 (baseline; default: the one in effect at as_of)"
    )
    monthly_cost: Money | None = Field(
        None,
        description="每人每月成本，元 (default: the mean monthly wage of active dispatches in the region)",
    )


class Delta(BaseModel):
    before: int = Field(description="现行标准 (under the baseline)")
    after: int = Field(description="拟议标准 (under the draft)")
    delta: int = Field(description="变化 = after − before (change)")


class MaybeDelta(BaseModel):
    before: int | None = Field(description="现行标准 (under the baseline; null for counties)")
    after: int | None = Field(description="拟议标准 (under the draft; null for counties)")
    delta: int | None = Field(description="变化 (change)")


class SimulatedLevel(BaseModel):
    units: int = Field(description="单位数 (units)")
    required_min: Delta = Field(description="最低配备合计 (sum of minimums)")
    allowed_max: MaybeDelta = Field(description="最高配备合计 (sum of ceilings; null for counties)")
    shortfall: Delta = Field(description="缺口合计 (sum of shortfalls)")
    units_changed: int = Field(description="标准变化的单位数 (units whose minimum or ceiling changes)")


class SimulatedLevels(BaseModel):
    county: SimulatedLevel | None = Field(description="县级 (county level)")
    township: SimulatedLevel | None = Field(description="乡镇级 (township level)")
    village: SimulatedLevel | None = Field(description="村（社区）级 (village level)")


class SimulatedPart(BaseModel):
    region_code: str = Field(description="区划 (region)")
    name: str = Field(description="名称 (name)")
    levels: SimulatedLevels = Field(description="按层级 (per level)")
    additional_staff: int = Field(description="需增加人数 = 缺口变化之和 (additional staff; negative: fewer)")
    annual_cost_delta: SignedMoney = Field(
        description="年度成本变化，元 = 增加人数 × 月成本 × 12 (annual cost change)"
    )


class QuotaSimulation(SimulatedPart):
    as_of: str = Field(description="统计月份 (month, YYYY-MM)")
    baseline_rule_set_id: int = Field(description="对照规则集 (baseline rule set)")
    monthly_cost: Money = Field(description="每人每月成本，元 (monthly cost per worker)")
    children: list[SimulatedPart] = Field(description="按下级区划 (the same, per child region)")
