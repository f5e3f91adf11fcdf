"""Staffing quotas (notice §二(一), §二(二)): pure functions of a rule set's parameters. No I/O.

Thresholds are inclusive (以上/以下 include the number, 民法典 第1259条) and "不少于" means at least,
so partial groups round up unless a rule set names another rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.common.regions import PEOPLE

Rounding = Literal["ceil", "floor", "half_up"]


class CountyRule(BaseModel):
    """县级民政局社会救助部门: 低保对象3万人以下（含）配备不少于3名; 以上每1万名不少于1名."""

    model_config = ConfigDict(extra="forbid", strict=True)
    threshold: int = Field(
        30_000, ge=0, le=PEOPLE, description="低保对象人数门槛 (dibao threshold, inclusive)"
    )
    minimum_at_or_below: int = Field(
        3, ge=0, le=PEOPLE, description="门槛以下最少人数 (minimum staff at or below it)"
    )
    recipients_per_staff: int = Field(
        10_000, gt=0, le=PEOPLE, description="门槛以上每名工作人员对应低保对象数 (divisor above it)"
    )


class TownshipRule(BaseModel):
    """乡镇（街道）: 1500人以下配备1至2名; 1500人以上每800至1500名配备1名."""

    model_config = ConfigDict(extra="forbid", strict=True)
    threshold: int = Field(
        1_500, ge=0, le=PEOPLE, description="低保对象人数门槛 (dibao threshold, inclusive)"
    )
    minimum_at_or_below: int = Field(
        1, ge=0, le=PEOPLE, description="门槛以下最少人数 (minimum at or below it)"
    )
    maximum_at_or_below: int = Field(
        2, ge=0, le=PEOPLE, description="门槛以下最多人数 (maximum at or below it)"
    )
    recipients_per_staff_min: int = Field(
        1_500, gt=0, le=PEOPLE, description="最少人数的除数 (divisor for the minimum)"
    )
    recipients_per_staff_max: int = Field(
        800, gt=0, le=PEOPLE, description="最多人数的除数 (divisor for the maximum)"
    )


class VillageTier(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    population_from: int = Field(ge=0, le=PEOPLE, description="人口下限（含） (population from, inclusive)")
    maximum: int = Field(ge=0, le=PEOPLE, description="可配备人数 (assistants allowed)")


class VillageRule(BaseModel):
    """行政村或社区: 原则上配备1人; 人口5000人（含）以上可配备2人、1万人（含）以上可配备3人."""

    model_config = ConfigDict(extra="forbid", strict=True)
    minimum: int = Field(1, ge=0, le=PEOPLE, description="最少协理员人数 (minimum assistants)")
    tiers: list[VillageTier] = Field(
        default_factory=lambda: [
            VillageTier(population_from=0, maximum=1),
            VillageTier(population_from=5_000, maximum=2),
            VillageTier(population_from=10_000, maximum=3),
        ],
        min_length=1,
        description="按人口的上限档次 (ceiling tiers by population)",
    )

    @model_validator(mode="after")
    def tiers_ordered(self) -> VillageRule:
        starts = [t.population_from for t in self.tiers]
        if starts[0] != 0 or starts != sorted(set(starts)):
            raise ValueError("tiers must start at 0 and increase strictly")
        return self


class RuleParameters(BaseModel):
    """A staffing rule set's parameters: a new policy is a new row, not a code change."""

    model_config = ConfigDict(extra="forbid", strict=True)
    county: CountyRule = Field(default_factory=CountyRule, description="县级 (county rule)")
    township: TownshipRule = Field(default_factory=TownshipRule, description="乡镇 (township rule)")
    village: VillageRule = Field(default_factory=VillageRule, description="村（社区）协理员 (village rule)")
    rounding: Rounding = Field(
        "ceil", description="不足一组的取整方式 (rounding of partial groups; 不少于 → ceil)"
    )


@dataclass(frozen=True)
class Quota:
    required_min: int
    allowed_max: int | None


def _divide(n: int, d: int, rounding: Rounding) -> int:
    if rounding == "ceil":
        return -(-n // d)
    if rounding == "floor":
        return n // d
    return int((Decimal(n) / Decimal(d)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def county_quota(dibao_recipients: int, p: RuleParameters) -> Quota:
    """低保对象在3万人以下（含3万人）的县（市、区）民政局社会救助部门配备不少于3名工作人员，
    3万人以上的按照每1万名低保对象配备不少于1名工作人员（§二(一)）. No ceiling."""
    r = p.county
    if dibao_recipients <= r.threshold:
        return Quota(r.minimum_at_or_below, None)
    return Quota(_divide(dibao_recipients, r.recipients_per_staff, p.rounding), None)


def township_quota(dibao_recipients: int, p: RuleParameters) -> Quota:
    """低保对象在1500人以下的乡镇（街道办事处）配备1至2名社会救助专职工作人员，1500人以上的按每800至
    1500名低保对象配备1名（§二(一)）: at least ⌈N/1500⌉, at most ⌈N/800⌉.

    The notice's 以下 and 以上 both include 1,500; the spec places 1,500 itself in the first tier."""
    r = p.township
    if dibao_recipients <= r.threshold:
        return Quota(r.minimum_at_or_below, r.maximum_at_or_below)
    return Quota(
        _divide(dibao_recipients, r.recipients_per_staff_min, p.rounding),
        _divide(dibao_recipients, r.recipients_per_staff_max, p.rounding),
    )


def village_quota(population: int, p: RuleParameters) -> Quota:
    """社会救助协理员原则上每个行政村或社区配备1人，人口5000人（含）以上的可配备2人、1万人（含）以上可配备
    3人（§二(二)）."""
    r = p.village
    reached = [t for t in r.tiers if population >= t.population_from]  # tiers ascend from 0
    return Quota(r.minimum, reached[-1].maximum)


def quota(level: str, figure: int, p: RuleParameters) -> Quota:
    if figure < 0:
        raise ValueError("figures are non-negative")
    if level == "county":
        return county_quota(figure, p)
    if level == "township":
        return township_quota(figure, p)
    if level == "village":
        return village_quota(figure, p)
    raise ValueError(f"no quota at level {level}")


def status(required_min: int, allowed_max: int | None, total: int) -> str:
    if total < required_min:
        return "below_minimum"
    if allowed_max is not None and total > allowed_max:
        return "above_maximum"
    return "within_quota"
