"""An ``Idempotency-Key`` on a write that commits a first step before calling another service
(``transaction.commit_step``, as a payment does): the step commits the key's claim "in progress" and
frees its advisory lock, yet a twin must still hear 409 while the first request runs, and nothing
may be done twice (README *Idempotency*). A claim committed in progress is taken to be running for
``idempotency_claim_seconds``, then to be dead (its process crashed between the steps)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

import httpx
import pytest
from fastapi import Depends
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.app import create_service_app, router
from services.common.auth.deps import require
from services.common.auth.tokens import Principal
from services.common.changes import record_change
from services.common.errors import DomainError, invalid
from services.common.idempotency import body_hash
from services.common.models import AuditEvent, IdempotencyKey
from services.common.settings import Settings
from services.common.transaction import Session, commit_step
from tests.conftest import Tokens, until_waiting_on_a_lock

CLAIM_SECONDS = 30.0
stepped = router(prefix="/stepped")
County = Annotated[Principal, Depends(require("county_official"))]
# A request parked between its steps says so (PARKED) and waits until the test lets it go (RELEASE).
PARKED: dict[str, asyncio.Event] = {}
RELEASE: dict[str, asyncio.Event] = {}


@stepped.post("/{name}", status_code=201)
async def two_steps(name: str, session: Session, principal: County, then: str = "ok") -> dict[str, str]:
    """Step 1 (a change) committed, then the 'call' (parked while ``then`` is 'wait'), then the answer."""
    record_change(
        session, principal, action="stepped", resource="step", resource_id=name, region="530102", data={}
    )
    await commit_step(session)
    if then == "wait":
        PARKED[name].set()
        await RELEASE[name].wait()
    if then == "422":
        raise invalid("STEP_REFUSED", "第二步拒绝", "The second step refuses")
    if then == "500":
        raise RuntimeError("the other service failed")
    if then == "502":
        raise DomainError("UPSTREAM_UNAVAILABLE", "对方服务不可用", "The other service is unreachable", 502)
    return {"name": name}


@pytest.fixture
async def client(settings: Settings, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(
        name="stepped", title="stepped", description="stepped", routers=[stepped], database_url=db_url,
        settings=settings.model_copy(update={"idempotency_claim_seconds": CLAIM_SECONDS}),
    )  # fmt: skip
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://stepped.test") as c,
    ):
        yield c


def _headers(tokens: Tokens, key: str) -> dict[str, str]:
    return {**tokens.headers("county_official", "530102", sub="stepper"), "Idempotency-Key": key}


async def _steps_done(engine: AsyncEngine, name: str) -> int:
    async with engine.connect() as conn:
        done = select(func.count()).where(AuditEvent.resource == "step", AuditEvent.resource_id == name)
        return int((await conn.execute(done)).scalar_one())


async def test_a_twin_during_the_call_hears_409_and_then_the_first_answer(
    client: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    PARKED["a"], RELEASE["a"] = asyncio.Event(), asyncio.Event()
    h = _headers(tokens, "k-during")
    first = asyncio.create_task(client.post("/stepped/a", params={"then": "wait"}, headers=h))
    await asyncio.wait_for(PARKED["a"].wait(), 10)  # step 1 committed: the first is in its call
    assert await _steps_done(engine, "a") == 1
    # (A twin let in would park too, and never answer: the bound makes that a failure, not a hang.)
    twin = await asyncio.wait_for(client.post("/stepped/a", params={"then": "wait"}, headers=h), 10)
    assert twin.status_code == 409 and twin.json()["code"] == "REQUEST_IN_PROGRESS"
    assert twin.headers["retry-after"] == "1"
    RELEASE["a"].set()
    answered = await first
    assert answered.status_code == 201 and "idempotent-replayed" not in answered.headers
    again = await client.post("/stepped/a", params={"then": "wait"}, headers=h)
    assert (again.status_code, again.json()) == (201, answered.json())
    assert again.headers["idempotent-replayed"] == "true"
    assert await _steps_done(engine, "a") == 1  # the step ran once


@pytest.mark.parametrize("failure", ["500", "502"])  # an unexpected error; the domain's own 5xx
async def test_a_5xx_after_the_step_frees_the_key_at_once(
    client: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine, failure: str
) -> None:
    h = _headers(tokens, f"k-{failure}")
    name = f"b{failure}"
    failed = await client.post(f"/stepped/{name}", params={"then": failure}, headers=h)
    assert failed.status_code == int(failure)
    retry = await client.post(f"/stepped/{name}", headers=h)
    assert retry.status_code == 201 and "idempotent-replayed" not in retry.headers
    assert await _steps_done(engine, name) == 2  # a step is built to be run again (a payment's is)


async def test_a_4xx_after_the_step_is_stored_in_its_own_claim(
    client: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    h = _headers(tokens, "k-4xx")
    refused = await client.post("/stepped/c", params={"then": "422"}, headers=h)
    assert refused.status_code == 422 and refused.json()["code"] == "STEP_REFUSED"
    again = await client.post("/stepped/c", headers=h)
    assert (again.status_code, again.headers["idempotent-replayed"]) == (422, "true")
    async with engine.connect() as conn:
        rows = (await conn.execute(select(IdempotencyKey.state).filter_by(key="k-4xx"))).all()
    assert [r.state for r in rows] == ["completed"]


@pytest.mark.parametrize(("age", "status"), [(CLAIM_SECONDS - 1, 409), (CLAIM_SECONDS + 1, 201)])
async def test_a_claim_left_in_progress_is_running_until_claim_seconds_then_dead(
    client: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine, age: float, status: int
) -> None:
    """Just below the bound its request is taken to be running; just above, to have died between
    its steps, and the retry takes the claim over and answers."""
    await _left_in_progress(engine, "k-left", age)
    retry = await client.post("/stepped/d", headers=_headers(tokens, "k-left"))
    assert retry.status_code == status, retry.text
    if status == 409:
        assert retry.json()["code"] == "REQUEST_IN_PROGRESS" and await _steps_done(engine, "d") == 0
    else:
        again = await client.post("/stepped/d", headers=_headers(tokens, "k-left"))
        assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
        assert await _steps_done(engine, "d") == 1


async def _left_in_progress(engine: AsyncEngine, key: str, age: float) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            IdempotencyKey.__table__.insert().values(
                service="stepped", sub="stepper", method="POST", route="/stepped/{name}", key=key,
                request_hash=body_hash("", b""), state="in_progress",
                created_at=func.now() - timedelta(seconds=age),
            )
        )  # fmt: skip


async def test_a_dead_claim_taken_over_is_young_again_once_its_step_commits(
    client: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    """The retry that took a dead claim over commits it afresh with its own step: while that retry
    calls the other service, a twin hears 409 rather than taking the claim over in turn."""
    await _left_in_progress(engine, "k-dead", CLAIM_SECONDS + 1)
    PARKED["e"], RELEASE["e"] = asyncio.Event(), asyncio.Event()
    h = _headers(tokens, "k-dead")
    retry = asyncio.create_task(client.post("/stepped/e", params={"then": "wait"}, headers=h))
    await asyncio.wait_for(PARKED["e"].wait(), 10)
    twin = await asyncio.wait_for(client.post("/stepped/e", params={"then": "wait"}, headers=h), 10)
    assert twin.status_code == 409 and twin.json()["code"] == "REQUEST_IN_PROGRESS"
    RELEASE["e"].set()
    assert (await retry).status_code == 201
    assert await _steps_done(engine, "e") == 1


async def test_a_step_behind_a_twins_answer_is_not_committed(
    client: httpx.AsyncClient, tokens: Tokens, engine: AsyncEngine
) -> None:
    """A twin's answer committed after the key's look-up (whose snapshot is taken before its lock)
    meets the step's claim: the step is not committed, the request hears 409, and a retry gets the
    twin's answer. The twin is a transaction holding its answer uncommitted until the claim waits."""
    twins_answer = b'{"name":"the twin"}'
    async with engine.connect() as twin:
        await twin.execute(
            IdempotencyKey.__table__.insert().values(
                service="stepped", sub="stepper", method="POST", route="/stepped/{name}", key="k-behind",
                request_hash=body_hash("", b""), state="completed", response_status=201,
                response_headers={"content-type": "application/json"}, response_body=twins_answer,
                completed_at=func.now(),
            )
        )  # fmt: skip
        request = asyncio.create_task(client.post("/stepped/f", headers=_headers(tokens, "k-behind")))
        await until_waiting_on_a_lock(engine, "INSERT INTO idempotency_keys")  # the step's claim
        await twin.commit()
    late = await asyncio.wait_for(request, 10)
    assert late.status_code == 409 and late.json()["code"] == "REQUEST_IN_PROGRESS"
    assert await _steps_done(engine, "f") == 0
    retry = await client.post("/stepped/f", headers=_headers(tokens, "k-behind"))
    assert (retry.status_code, retry.content, retry.headers["idempotent-replayed"]) == (
        201,
        twins_answer,
        "true",
    )


@pytest.mark.parametrize(("claim", "accepted"), [(10.0, False), (10.5, True)])
def test_a_claim_must_outlive_the_call_after_the_step(claim: float, accepted: bool) -> None:
    """With upstream_timeout 10 s, a claim of 10 s could be taken over while the call still runs."""
    values = {"upstream_timeout": 10.0, "idempotency_claim_seconds": claim}
    if accepted:
        assert Settings(**values).idempotency_claim_seconds == claim
    else:
        with pytest.raises(ValidationError, match="must be longer than upstream_timeout"):
            Settings(**values)
