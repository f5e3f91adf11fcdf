"""Public answers: organisations and money only, never a person."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from services.common.money import Money


class PublicContract(BaseModel):
    id: int = Field(description="合同编号 (contract id)")
    purchaser_region: str = Field(description="购买主体所在县 (purchaser county code)")
    purchaser: str = Field(description="购买主体 (purchaser)")
    contractor_name: str = Field(description="承接主体名称 (contractor)")
    uscc: str = Field(description="统一社会信用代码 (contractor's unified social credit code)")
    method: str | None = Field(description="采购方式 (procurement method; null: no procurement recorded)")
    winning_score: Money | None = Field(description="中标综合得分 (winning total score)")
    amount: Money | None = Field(description="合同金额，元 (amount)")
    start_date: date | None = Field(description="起始日 (first day)")
    end_date: date | None = Field(description="终止日 (last day)")
    signed_on: date | None = Field(description="签订日 (day signed)")
    status: str = Field(description="状态 (status)")
    posts_count: int = Field(description="购买岗位数 (posts bought)")


class PublicContractPage(BaseModel):
    items: list[PublicContract] = Field(description="合同公开信息 (contracts, by id)")
    next_cursor: str | None = Field(description="下一页游标 (cursor of the next page)")


class ReleasePackage(BaseModel):
    """OCDS 1.1 release package (validated against the official schema in the tests)."""

    uri: str = Field(description="本包地址 (this package's URI)")
    version: str = Field(description="OCDS 版本 (1.1)")
    publishedDate: str = Field(description="发布时间 (published)")
    publisher: dict[str, Any] = Field(description="发布者 (publisher)")
    releases: list[dict[str, Any]] = Field(description="发布 (releases, one per contract)")


def posts_count(posts: list[dict[str, Any]]) -> int:
    return sum(int(p.get("count", 0)) for p in posts)
