"""Request and response models of the region endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.common.regions import PEOPLE, Level

Kind = str


class RegionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    code: str = Field(description="区划代码 (region code: 2, 4, 6, 9 or 12 digits; padded forms accepted)")
    name: str = Field(min_length=1, max_length=100, description="名称 (official name)")
    kind: Kind | None = Field(
        None,
        description="类型 (kind): 地级市 city / 自治州 autonomous_prefecture; 市辖区 district / 县级市 "
        "county_city / 县 county / 自治县 autonomous_county; 镇 town / 乡 township / 街道 subdistrict / "
        "other; 村委会 village / 居委会 community",
    )


class RegionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="区划代码 (canonical region code)")
    name: str = Field(description="名称 (name)")
    level: Level = Field(
        description="层级 (level): 省 province, 州市 prefecture, 县 county, 乡镇 township, 村社区 village"
    )
    kind: Kind = Field(description="类型 (kind)")
    parent_code: str | None = Field(description="上级区划代码 (parent code)")
    directly_administered: bool = Field(
        description="省直管县 (county administered directly by the province for these funds)"
    )


class StatsWrite(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    dibao_recipients: int | None = Field(
        None, ge=0, description="低保对象数 (minimum-living-allowance recipients)"
    )
    tekun_recipients: int | None = Field(
        None, ge=0, le=PEOPLE, description="特困人员数 (persons in extreme poverty)"
    )
    population: int | None = Field(None, ge=0, le=PEOPLE, description="常住人口 (resident population)")


class StatsRead(BaseModel):
    region_code: str = Field(description="区划代码 (region code)")
    month: str = Field(description="统计月份 (month, YYYY-MM)")
    dibao_recipients: int | None = Field(description="低保对象数 (minimum-living-allowance recipients)")
    tekun_recipients: int | None = Field(description="特困人员数 (persons in extreme poverty)")
    population: int | None = Field(description="常住人口 (resident population)")
    demo: bool = Field(description="演示数据 (generated demo figures, not official statistics)")
    version: int = Field(description="版本 (version, also the ETag)")
    updated_at: datetime = Field(description="更新时间 (last update)")


class StatsRow(BaseModel):
    """A row of ``GET /region-stats``: the columns ``POST /region-stats/import`` takes, in its order."""

    region_code: str = Field(description="区划代码 (region code)")
    month: str = Field(description="统计月份 (month, YYYY-MM)")
    dibao_recipients: int | None = Field(description="低保对象数 (minimum-living-allowance recipients)")
    tekun_recipients: int | None = Field(description="特困人员数 (persons in extreme poverty)")
    population: int | None = Field(description="常住人口 (resident population)")


class StatsList(BaseModel):
    items: list[StatsRead] = Field(description="各月统计 (figures per month)")


class ImportResult(BaseModel):
    imported: int = Field(description="导入行数 (rows imported)")


class EstablishmentWrite(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    authorized_posts: int = Field(ge=0, le=10000, description="核定编制数 (authorized established posts)")


class EstablishmentRead(BaseModel):
    region_code: str = Field(description="区划代码 (county or township)")
    authorized_posts: int = Field(description="核定编制数 (authorized established posts)")
    version: int = Field(description="版本 (version, also the ETag)")
    updated_at: datetime = Field(description="更新时间 (last update)")
