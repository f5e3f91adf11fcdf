"""Request and response models of duties, tasks, work logs and workload."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from services.common.ids import MAX_ID
from services.common.months import Day

Program = Literal["dibao", "tekun", "medical", "temporary", "other"]


class DutyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="职责代码 (duty code)")
    level: str = Field(description="派遣层级 (posting level: county, township, village)")
    name_zh: str = Field(description="职责（中文） (duty, Chinese)")
    name_en: str = Field(description="职责（英文） (duty, English)")


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    dispatch_id: int = Field(ge=1, le=MAX_ID, description="派遣编号 (dispatch id)")
    duty_code: str = Field(max_length=60, description="职责代码 (a duty of the posting level, §四)")
    due_date: Day = Field(description="完成期限 (due date)")
    description: str = Field(min_length=1, max_length=2000, description="任务说明 (description)")


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="任务编号 (task id)")
    dispatch_id: int = Field(description="派遣编号 (dispatch id)")
    duty_code: str = Field(description="职责代码 (duty code)")
    due_date: dt.date = Field(description="完成期限 (due date)")
    description: str = Field(description="任务说明 (description)")
    region_code: str = Field(description="派驻区划 (posting region)")
    created_at: dt.datetime = Field(description="下达时间 (created at)")


class WorkLogCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    client_id: Annotated[uuid.UUID, Strict(False)] = Field(
        description="客户端编号，手机生成的 UUID (made on the phone; resends are recognised)"
    )
    dispatch_id: int = Field(ge=1, le=MAX_ID, description="派遣编号 (dispatch id)")
    duty_code: str = Field(max_length=60, description="职责代码 (duty code of the posting level)")
    date: Day = Field(description="工作日期 (day of the work)")
    program: Program | None = Field(
        None, description="救助项目 (dibao 低保, tekun 特困, medical 医疗, temporary 临时, other)"
    )
    task_id: int | None = Field(None, ge=1, le=MAX_ID, description="关联任务 (task, if any)")
    household_ref: str | None = Field(
        None, max_length=100, description="户编号（不含姓名证件号） (household reference, no PII)"
    )
    quantity: int = Field(1, ge=1, le=10_000, description="数量 (how many: households, visits, records)")
    note: str | None = Field(None, max_length=2000, description="备注 (note)")


class WorkLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="日志编号 (log id)")
    client_id: uuid.UUID = Field(description="客户端编号 (client id)")
    dispatch_id: int = Field(description="派遣编号 (dispatch id)")
    duty_code: str = Field(description="职责代码 (duty code)")
    date: dt.date = Field(description="工作日期 (day)")
    program: str | None = Field(description="救助项目 (programme)")
    task_id: int | None = Field(description="关联任务 (task)")
    household_ref: str | None = Field(description="户编号 (household reference)")
    quantity: int = Field(description="数量 (quantity)")
    note: str | None = Field(description="备注 (note)")
    region_code: str = Field(description="派驻区划 (posting region)")
    created_at: dt.datetime = Field(description="记录时间 (recorded at)")


class WorkLogBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    # Items are checked one by one in the route: a malformed item is rejected on its own, the
    # good ones are kept (an offline phone must not lose a day's work to one bad entry).
    items: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=500,
        description="离线积累的日志（每条同 WorkLogCreate），最多 500 条 (up to 500)",
    )


class ItemError(BaseModel):
    code: str = Field(description="错误代码 (error code)")
    message: str = Field(description="说明 (explanation)")


class BatchResult(BaseModel):
    client_id: uuid.UUID | None = Field(description="客户端编号 (client id; null when the item had none)")
    status: Literal["created", "duplicate", "rejected"] = Field(
        description="结果 (created, duplicate, rejected)"
    )
    log_id: int | None = Field(None, description="日志编号 (log id, when stored)")
    error: ItemError | None = Field(None, description="拒绝原因 (why rejected)")


class BatchResults(BaseModel):
    results: list[BatchResult] = Field(description="逐条结果，顺序同提交 (per item, in the order sent)")


class WorkloadItem(BaseModel):
    key: str = Field(description="分组键：区划代码或职责代码 (region code or duty code)")
    logs: int = Field(description="日志条数 (logs)")
    quantity: int = Field(description="工作量合计 (sum of quantities)")


class Workload(BaseModel):
    items: list[WorkloadItem] = Field(description="工作量 (workload by key)")
