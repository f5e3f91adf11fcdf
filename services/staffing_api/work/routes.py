"""Duties (§四), tasks, work logs from the mobile app, and workload (staffing.md)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common import problems
from services.common.app import router as make_router
from services.common.auth.deps import READ_ROLES, ensure_in_scope, require
from services.common.auth.tokens import ROLES, Principal
from services.common.changes import record_change
from services.common.errors import DomainError, invalid, not_found
from services.common.exports import exportable
from services.common.ids import MAX_ID, PathId
from services.common.models import Dispatch, Task
from services.common.months import Day, business_today
from services.common.pagination import Page, Paging
from services.common.regions import parse_code
from services.common.transaction import Session
from services.staffing_api.work import rules, store
from services.staffing_api.work.schemas import (
    BatchResult,
    BatchResults,
    DutyRead,
    ItemError,
    TaskCreate,
    TaskRead,
    Workload,
    WorkloadItem,
    WorkLogBatch,
    WorkLogCreate,
    WorkLogRead,
)

router = make_router(prefix="/api/v1", tags=["work"])
Anyone = Annotated[Principal, Depends(require(*ROLES))]
TaskGiver = Annotated[Principal, Depends(require("province_admin", "county_official", "township_official"))]
TaskReader = Annotated[Principal, Depends(require(*READ_ROLES, "worker"))]
LogWriter = Annotated[
    Principal, Depends(require("worker", "county_official", "township_official", "province_admin"))
]
WorkloadReader = Annotated[Principal, Depends(require(*READ_ROLES, scope="staffing:read"))]


def may_act_for(principal: Principal, dispatch: Dispatch) -> bool:
    """A worker for its own dispatch; an official for dispatches posted in its region."""
    if principal.role == "worker":
        return principal.sub == str(dispatch.person_id)
    return dispatch.region_code.startswith(principal.region)


@router.get("/duties", openapi_extra=exportable("duties"), response_model=list[DutyRead])
async def list_duties(
    _principal: Anyone,
    session: Session,
    level: Annotated[
        Literal["county", "township", "village"] | None, Query(description="派遣层级 (level)")
    ] = None,
) -> list[DutyRead]:
    """社会救助职责目录 (the duties of §四 by posting level; institutions use the township list)."""
    return [DutyRead.model_validate(d) for d in await store.duties(session, level)]


@router.post("/tasks", status_code=201, response_model=TaskRead)
async def create_task(
    body: TaskCreate, principal: TaskGiver, session: Session, response: Response
) -> TaskRead:
    """下达任务 (a task for a dispatched worker, within the social-assistance duties of its posting:
    不得要求…从事社会救助工作职责以外的其他工作, §四)."""
    dispatch = (await store.dispatches(session, [body.dispatch_id])).get(body.dispatch_id)
    if dispatch is None or not may_act_for(principal, dispatch):
        raise not_found("派遣", "dispatch")
    problem = rules.duty_problem(body.duty_code, dispatch.posting_level, await store.catalog(session))
    if problem is not None:
        raise invalid(problem.code, problem.zh, problem.en)
    task = Task(
        dispatch_id=dispatch.id,
        duty_code=body.duty_code,
        duty_level=rules.duty_level(dispatch.posting_level),
        due_date=body.due_date,
        description=body.description,
        region_code=dispatch.region_code,
        created_by=principal.sub,
    )
    await store.add(session, task)
    await session.refresh(task)
    out = TaskRead.model_validate(task)
    record_change(
        session,
        principal,
        action="created",
        resource="task",
        resource_id=str(task.id),
        region=task.region_code,
        data=out.model_dump(mode="json"),
    )
    response.headers["Location"] = f"/api/v1/tasks/{task.id}"
    return out


@router.get("/tasks/{task_id}", response_model=TaskRead)
async def read_task(task_id: PathId, principal: TaskReader, session: Session) -> TaskRead:
    """读取任务 (officials in scope; the worker it was given to)."""
    task = await store.get_task(session, task_id)
    dispatch = (await store.dispatches(session, [task.dispatch_id])).get(task.dispatch_id) if task else None
    if task is None or dispatch is None or not may_act_for(principal, dispatch):
        raise not_found("任务", "task")
    return TaskRead.model_validate(task)


async def _keep_logs(
    session: AsyncSession, principal: Principal, items: list[WorkLogCreate], lang: str
) -> tuple[list[BatchResult], dict[tuple[int, uuid.UUID], int]]:
    """Check every item, insert the good ones in one statement, recognise resends. Order is kept."""
    if not items:
        return [], {}
    if not items:
        return [], {}
    today = business_today(datetime.now(UTC))
    dispatches = await store.dispatches(session, {i.dispatch_id for i in items})
    catalog = await store.catalog(session)
    tasks = await store.task_dispatches(session, {i.task_id for i in items if i.task_id is not None})
    verdicts: list[BatchResult | tuple[int, uuid.UUID]] = []
    rows: dict[tuple[int, uuid.UUID], dict[str, object]] = {}

    def reject(item: WorkLogCreate, code: str, zh: str, en: str) -> BatchResult:
        return BatchResult(
            client_id=item.client_id,
            status="rejected",
            error=ItemError(code=code, message=en if lang == "en" else zh),
        )

    for item in items:
        d = dispatches.get(item.dispatch_id)
        if d is None or not may_act_for(principal, d):
            verdicts.append(reject(item, "DISPATCH_NOT_FOUND", "派遣不存在", "No such dispatch"))
            continue
        facts = rules.DispatchFacts(d.posting_level, d.start_date, d.end_date)
        problem = rules.log_problem(facts, item.duty_code, item.date, today, catalog)
        if problem is not None:
            verdicts.append(reject(item, problem.code, problem.zh, problem.en))
            continue
        if item.task_id is not None and tasks.get(item.task_id) != d.id:
            verdicts.append(
                reject(item, "TASK_NOT_FOUND", "任务不存在或不属于该派遣", "No such task for this dispatch")
            )
            continue
        key = (d.id, item.client_id)
        verdicts.append(key)
        rows.setdefault(
            key,
            {
                **item.model_dump(),
                "duty_level": rules.duty_level(d.posting_level),
                "person_id": d.person_id,
                "region_code": d.region_code,
                "created_by": principal.sub,
            },
        )
    created = await store.insert_logs(session, list(rows.values()))
    earlier = await store.existing_logs(session, [k for k in rows if k not in created])
    results: list[BatchResult] = []
    first_seen: set[tuple[int, uuid.UUID]] = set()
    for v in verdicts:
        if isinstance(v, BatchResult):
            results.append(v)
        elif v in created and v not in first_seen:
            first_seen.add(v)
            results.append(BatchResult(client_id=v[1], status="created", log_id=created[v]))
        else:
            log_id = created.get(v) or earlier[v].id
            results.append(BatchResult(client_id=v[1], status="duplicate", log_id=log_id))
    for (dispatch_id, client_id), log_id in created.items():
        row = rows[dispatch_id, client_id]
        record_change(
            session,
            principal,
            action="created",
            resource="work_log",
            resource_id=str(log_id),
            region=str(row["region_code"]),
            data={
                "dispatch_id": dispatch_id,
                "duty_code": row["duty_code"],
                "date": str(row["date"]),
                "quantity": row["quantity"],
                "program": row["program"],
            },
        )
    return results, created


@router.post(
    "/work-logs", status_code=201, response_model=WorkLogRead, responses={200: {"model": WorkLogRead}}
)
async def create_work_log(
    body: WorkLogCreate, principal: LogWriter, session: Session, request: Request, response: Response
) -> WorkLogRead:
    """记录工作日志 (the worker for its own dispatch, or an official of the posting region). A resend
    with the same `(dispatch_id, client_id)` returns the stored log (200), never a copy."""
    lang = problems.language(request.headers.get("accept-language"))
    [result], _ = await _keep_logs(session, principal, [body], lang)
    if result.status == "rejected":
        assert result.error is not None  # noqa: S101 - rejected results carry their error
        if result.error.code == "DISPATCH_NOT_FOUND":
            raise not_found("派遣", "dispatch")
        raise DomainError(result.error.code, result.error.message, result.error.message, status=422)
    stored = await store.existing_logs(session, [(body.dispatch_id, body.client_id)])
    if result.status == "duplicate":
        response.status_code = 200
    return WorkLogRead.model_validate(stored[body.dispatch_id, body.client_id])


@router.post("/work-logs/batch", response_model=BatchResults)
async def create_work_logs(
    body: WorkLogBatch, principal: LogWriter, session: Session, request: Request
) -> BatchResults:
    """批量上传离线日志 (up to 500 logs from a phone that was offline): per-item results in the order
    sent; good items are kept even when others are rejected."""
    lang = problems.language(request.headers.get("accept-language"))
    parsed: list[WorkLogCreate | BatchResult] = []
    for raw in body.items:
        try:
            parsed.append(WorkLogCreate.model_validate(raw))
        except ValidationError as exc:
            parsed.append(_malformed(raw, exc, lang))
    good = [p for p in parsed if isinstance(p, WorkLogCreate)]
    kept = iter((await _keep_logs(session, principal, good, lang))[0])
    return BatchResults(results=[p if isinstance(p, BatchResult) else next(kept) for p in parsed])


def _malformed(raw: dict[str, Any], exc: ValidationError, lang: str) -> BatchResult:
    """A batch item that is not a work log: rejected alone, naming its bad fields."""
    err = problems.validation_error(RequestValidationError(exc.errors()))
    try:
        client_id = uuid.UUID(str(raw["client_id"])) if raw.get("client_id") is not None else None
    except ValueError:
        client_id = None
    fields = ", ".join(e.field for e in err.errors)
    message = f"{err.message_en}: {fields}" if lang == "en" else f"{err.message_zh}：{fields}"
    return BatchResult(
        client_id=client_id, status="rejected", error=ItemError(code=err.code, message=message)
    )


@router.get("/workload", openapi_extra=exportable("workload"), response_model=Workload)
async def workload(
    principal: WorkloadReader,
    session: Session,
    region: Annotated[str | None, Query(description="区划前缀 (region and below)")] = None,
    from_: Annotated[Day | None, Query(alias="from", description="起始日 (from, inclusive)")] = None,
    to: Annotated[Day | None, Query(description="截止日 (to, inclusive)")] = None,
    group_by: Annotated[
        Literal["prefecture", "county", "township", "duty"], Query(description="分组 (grouping)")
    ] = "county",
) -> Workload:
    """工作量 (logs and quantities by region or duty; the workload factor of fund allocation). By
    prefecture, the three directly administered counties are keys of their own."""
    prefix = principal.region
    if region is not None:
        prefix = parse_code(region, "region")
        ensure_in_scope(principal, prefix)
    rows = await store.workload(session, prefix, from_, to, group_by)
    return Workload(items=[WorkloadItem(key=r.key, logs=r.logs, quantity=r.quantity) for r in rows])


RegionFilter = Annotated[str | None, Query(description="区划前缀 (region and below)")]
DispatchFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="派遣编号 (dispatch id)")]
LogReader = Annotated[Principal, Depends(require(*READ_ROLES, "worker", scope="staffing:read"))]


def _region_filter(principal: Principal, region: str | None) -> str | None:
    if region is None:
        return None
    code = parse_code(region, "region")
    if principal.role != "worker":
        ensure_in_scope(principal, code)
    return code


@router.get("/tasks", openapi_extra=exportable("tasks"), response_model=Page[TaskRead])
async def list_tasks(
    principal: TaskReader,
    session: Session,
    paging: Paging,
    region: RegionFilter = None,
    dispatch_id: DispatchFilter = None,
) -> Page[TaskRead]:
    """任务列表 (officials: their region; a worker: its own tasks)."""
    rows, cursor = await store.list_tasks(
        session, principal, paging, region=_region_filter(principal, region), dispatch_id=dispatch_id
    )
    return Page[TaskRead](items=[TaskRead.model_validate(t) for t in rows], next_cursor=cursor)


@router.get("/work-logs/{log_id:int}", response_model=WorkLogRead)
async def read_work_log(log_id: PathId, principal: LogReader, session: Session) -> WorkLogRead:
    """读取工作日志 (a worker only its own; officials and auditors in scope)."""
    log = await store.get_log(session, log_id)
    visible = log is not None and (
        principal.sub == str(log.person_id)
        if principal.role == "worker"
        else log.region_code.startswith(principal.region)
    )
    if log is None or not visible:
        raise not_found("工作日志", "work log")
    return WorkLogRead.model_validate(log)


@router.get("/work-logs", openapi_extra=exportable("work-logs"), response_model=Page[WorkLogRead])
async def list_work_logs(
    principal: LogReader,
    session: Session,
    paging: Paging,
    region: RegionFilter = None,
    dispatch_id: DispatchFilter = None,
) -> Page[WorkLogRead]:
    """工作日志列表 (a worker only its own; officials and auditors in scope), by id."""
    rows, cursor = await store.list_logs(
        session, principal, paging, region=_region_filter(principal, region), dispatch_id=dispatch_id
    )
    return Page[WorkLogRead](items=[WorkLogRead.model_validate(w) for w in rows], next_cursor=cursor)
