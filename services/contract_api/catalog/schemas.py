"""Request and response models of the service catalog."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PostingLevel = Literal["county", "township", "village", "institution"]
LEVEL_FIELD = (
    "派驻层级 (where the staff work): county 县, township 乡镇, village 村（社区）, institution 供养机构"
)


class CatalogItemWrite(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,59}$", description="目录代码 (snake_case code)")
    name_zh: str = Field(min_length=1, max_length=200, description="名称 (Chinese name)")
    name_en: str = Field(min_length=1, max_length=200, description="英文名称 (English name)")
    posting_level: PostingLevel | None = Field(None, description=LEVEL_FIELD)
    purchasable: bool = Field(description="可否购买 (false: on the negative list)")
    reason: str | None = Field(
        None, max_length=500, description="不可购买的原因 (required when not purchasable)"
    )


class CatalogItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="目录代码 (code)")
    name_zh: str = Field(description="名称 (Chinese name)")
    name_en: str = Field(description="英文名称 (English name)")
    posting_level: PostingLevel | None = Field(description=LEVEL_FIELD)
    purchasable: bool = Field(description="可否购买 (false: on the negative list, §三(三))")
    reason: str | None = Field(description="不可购买的原因 (why not, citing the notice)")
