"""Request and response models of allocations, expenditures and fund execution."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from services.common.ids import MAX_ID
from services.common.money import PLAIN_DECIMAL, Money, PositiveMoney, decimal_in, share_pattern
from services.common.months import Day

Weight = Annotated[
    Decimal,
    Strict(False),
    PLAIN_DECIMAL,
    Field(ge=0, le=1, max_digits=7, decimal_places=6),
    decimal_in(share_pattern(6), 0, 1),
]
FactorValue = Annotated[
    Decimal,
    Strict(False),
    PLAIN_DECIMAL,
    Field(ge=0, max_digits=18, decimal_places=6),
    decimal_in(r"^[0-9]{1,12}(\.[0-9]{1,6})?$", 0, 10**12 - 1),
]
UnitCode = Annotated[str, Field(pattern=r"^53\d{2}(\d{2})?$", description="单位区划 (unit region code)")]
Category = Literal["service_purchase", "three_public_costs", "working_funds", "equipment", "construction"]
Status = Literal["draft", "approved", "published"]


class Weights(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    needy_population: Weight = Field(description="困难群众数量权重 (needy population)")
    workload: Weight = Field(description="社会救助服务工作量权重 (workload)")
    fund_use: Weight = Field(description="资金使用情况权重 (fund use)")
    performance: Weight = Field(description="绩效考评权重 (performance)")


class Factors(BaseModel):
    """Values that replace the defaults from the data; a factor left out keeps its default."""

    model_config = ConfigDict(extra="forbid", strict=True)

    needy_population: FactorValue | None = Field(None, description="困难群众数 (dibao + tekun)")
    workload: FactorValue | None = Field(None, description="工作量 (work-log quantity)")
    fund_use: FactorValue | None = Field(None, description="资金执行率 (execution rate)")
    performance: FactorValue | None = Field(None, description="绩效评价平均分 (mean evaluation total)")


class AllocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    year: int = Field(ge=2000, le=2100, description="年度 (year)")
    total_amount: PositiveMoney | None = Field(
        None, description="分配总额，元 (total; a re-allocation's is its line plus own funds)"
    )
    own_funds: Money = Field(Decimal("0.00"), description="州县自筹资金，元 (own funds added, re-allocation)")
    parent_allocation_id: int | None = Field(
        None, ge=1, description="上级分配 (the province's allocation a prefecture re-allocates)"
    )
    weights: Weights = Field(description="因素权重，合计为 1 (weights, summing to 1)")
    units: list[UnitCode] | None = Field(
        None, min_length=1, max_length=200, description="分配单位 (units; default: every unit of the level)"
    )
    factor_values: dict[UnitCode, Factors] | None = Field(
        None, max_length=200, description="因素值覆盖 (factor values replacing the data's, per unit)"
    )


class LineRead(BaseModel):
    allocation_line_id: int = Field(description="分配明细编号 (what expenditures are made against)")
    region_code: str = Field(description="单位区划 (unit)")
    region_name: str = Field(description="单位名称 (unit name)")
    factors: dict[str, Decimal] = Field(description="采用的因素值 (factor values used)")
    share: Decimal = Field(description="分配系数，6 位小数 (share)")
    amount: Money = Field(description="分配金额，元 (amount)")
    spent: Money = Field(description="已支出，元 (spent against this line)")
    remaining: Money = Field(description="余额，元 (remaining)")


class AllocationRead(BaseModel):
    id: int = Field(description="分配编号 (allocation id)")
    year: int = Field(description="年度 (year)")
    region_code: str = Field(description="分配层级区划 (the allocating region: province or prefecture)")
    parent_allocation_id: int | None = Field(description="上级分配 (parent allocation)")
    parent_line_id: int | None = Field(description="上级分配明细 (the prefecture's line re-allocated)")
    total_amount: Money = Field(description="分配总额 (total)")
    own_funds: Money = Field(description="自筹资金 (own funds)")
    weights: dict[str, Decimal] = Field(description="因素权重 (weights as given)")
    status: Status = Field(description="状态 (draft 草稿, approved 已审核, published 已下达)")
    allowed_actions: list[str] = Field(description="当前可执行的操作 (actions allowed now)")
    lines: list[LineRead] = Field(description="分配结果 (lines, by region code)")
    created_by: str = Field(description="创建人 (created by)")
    approved_by: str | None = Field(description="审核人 (approved by)")
    published_at: datetime | None = Field(description="下达时间 (published)")
    version: int = Field(description="版本 (version, for If-Match)")


class ExpenditureCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    allocation_line_id: int = Field(ge=1, le=MAX_ID, description="分配明细 (the line spent against)")
    amount: PositiveMoney = Field(description="支出金额，元 (amount)")
    category: Category = Field(description="支出类别 (category; only service_purchase is allowed, §五)")
    contract_id: int | None = Field(
        None, ge=1, description="购买服务合同 (contract; required for service_purchase)"
    )
    payment_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="对应的合同支付 (the contract payment it books)"
    )
    spent_on: Day = Field(description="支出日期 (date spent)")
    description: str = Field(min_length=1, max_length=2000, description="摘要 (description)")


class ExpenditureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="支出编号 (expenditure id)")
    allocation_line_id: int = Field(description="分配明细 (line)")
    region_code: str = Field(description="支出单位 (county)")
    amount: Money = Field(description="支出金额 (amount)")
    category: Category = Field(description="支出类别 (category)")
    contract_id: int | None = Field(description="合同 (contract)")
    payment_id: int | None = Field(description="合同支付 (payment)")
    spent_on: date = Field(description="支出日期 (date spent)")
    description: str = Field(description="摘要 (description)")
    created_at: datetime = Field(description="登记时间 (recorded)")


class ExecutionItem(BaseModel):
    allocation_id: int = Field(description="分配 (allocation)")
    allocation_line_id: int = Field(description="分配明细 (line)")
    allocating_region: str = Field(description="分配层级 (province or prefecture)")
    region_code: str = Field(description="单位 (unit)")
    allocated: Money = Field(description="分配金额 (allocated)")
    spent_directly: Money = Field(description="本单位支出 (spent against this line)")
    spent_by_reallocation: Money = Field(description="再分配后下级支出 (spent against its re-allocation)")
    spent: Money = Field(description="合计支出 (spent in all)")
    execution_rate: Decimal = Field(description="执行率 = 支出 / 分配，最高为 1 (execution rate, ≤ 1)")


class FundExecution(BaseModel):
    region: str = Field(description="区划 (region)")
    year: int = Field(description="年度 (year)")
    spent_total: Money = Field(description="区域内实际支出合计 (every expenditure in the region and year)")
    items: list[ExecutionItem] = Field(description="各分配明细的执行情况 (per published line in scope)")


class PublicLine(BaseModel):
    region_code: str = Field(description="单位区划 (unit)")
    region_name: str = Field(description="单位名称 (unit name)")
    factors: dict[str, Decimal] = Field(description="因素值 (factor values used)")
    share: Decimal = Field(description="分配系数 (share)")
    amount: Money = Field(description="分配金额，元 (amount)")


class PublicAllocation(BaseModel):
    id: int = Field(description="分配编号 (allocation id)")
    year: int = Field(description="年度 (year)")
    region_code: str = Field(description="分配层级区划 (province or prefecture)")
    parent_allocation_id: int | None = Field(description="上级分配 (parent allocation)")
    total_amount: Money = Field(description="分配总额 (total)")
    own_funds: Money = Field(description="自筹资金 (own funds)")
    weights: dict[str, Decimal] = Field(description="因素权重 (weights)")
    published_at: datetime | None = Field(description="下达时间 (published)")
    lines: list[PublicLine] = Field(description="分配结果 (lines)")


class PublicAllocationList(BaseModel):
    items: list[PublicAllocation] = Field(description="已下达的资金分配 (published allocations, by id)")
