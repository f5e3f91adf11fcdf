"""One transaction per request, committed before the response is sent, and ``Idempotency-Key``.

``TransactionalRoute`` wraps every endpoint: it opens the request's session, runs the endpoint,
numbers the change-feed events and commits *before* returning the response, so a client never gets
a 2xx for a change that did not commit. With an ``Idempotency-Key`` on a POST it first claims the
key in its own committed transaction (so a racing twin sees it in progress), stores the answer in
the same transaction as the work, and replays it afterwards.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common import problems
from services.common.auth.deps import authenticate
from services.common.changes import flush_events
from services.common.database import Database
from services.common.errors import conflict, invalid
from services.common.models import IdempotencyKey

KEY_MAX = 200
REPLAYED_HEADERS = ("content-type", "location", "etag")


def session_of(request: Request) -> AsyncSession:
    """The request's session (dependency); opened and committed by ``TransactionalRoute``."""
    session: AsyncSession = request.state.session
    return session


def body_hash(content_type: str, body: bytes) -> str:
    """SHA-256 of canonical JSON (sorted keys) for JSON bodies, of the raw bytes otherwise."""
    if content_type.split(";")[0].strip().lower().endswith("json"):
        try:
            canonical = json.dumps(
                json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )
            return hashlib.sha256(canonical.encode()).hexdigest()
        except ValueError:
            pass
    return hashlib.sha256(body).hexdigest()


def _valid_key(key: str) -> bool:
    return 1 <= len(key) <= KEY_MAX and all(33 <= ord(c) <= 126 for c in key)


# The one way a route asks for the request's session.
Session = Annotated[AsyncSession, Depends(session_of)]

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]
BeforeCommit = Callable[[AsyncSession, Response], Awaitable[None]]


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Endpoint:
        inner = super().get_route_handler()
        route_path = self.path

        async def handler(request: Request) -> Response:
            key = request.headers.get("idempotency-key")
            if request.method == "POST" and key is not None:
                return await _idempotent(request, route_path, key, inner)
            return await _in_transaction(request, inner)

        return handler


async def _in_transaction(
    request: Request, inner: Endpoint, before_commit: BeforeCommit | None = None
) -> Response:
    db: Database = request.app.state.db
    async with db.sessionmaker() as session:
        session.info["service"] = request.app.state.service_name
        session.info["request_id"] = getattr(request.state, "request_id", "-")
        request.state.session = session
        response = await inner(request)  # exceptions propagate; the context manager rolls back
        if response.status_code >= 400:
            await session.rollback()
            return response
        if before_commit is not None:
            await before_commit(session, response)
        await flush_events(session)
        await session.commit()
        return response


async def _idempotent(request: Request, route: str, key: str, inner: Endpoint) -> Response:
    if not _valid_key(key):
        raise invalid(
            "INVALID_IDEMPOTENCY_KEY",
            "Idempotency-Key 须为 1–200 个可见 ASCII 字符",
            "Idempotency-Key must be 1-200 visible ASCII characters",
        )
    principal = await authenticate(request)
    digest = body_hash(request.headers.get("content-type", ""), await request.body())
    db: Database = request.app.state.db
    scope = {
        "service": request.app.state.service_name,
        "sub": principal.sub,
        "method": request.method,
        "route": route,
        "key": key,
    }
    stale_after = timedelta(seconds=request.app.state.settings.idempotency_stale_after)
    async with db.engine.begin() as conn:
        row_id = (
            await conn.execute(
                insert(IdempotencyKey)
                .values(**scope, request_hash=digest, state="in_progress")
                .on_conflict_do_nothing(constraint="uq_idempotency_scope")
                .returning(IdempotencyKey.id)
            )
        ).scalar_one_or_none()
        if row_id is None:
            existing = (await conn.execute(select(IdempotencyKey).filter_by(**scope).with_for_update())).one()
            if existing.request_hash != digest:
                raise invalid(
                    "IDEMPOTENCY_KEY_REUSED",
                    "该 Idempotency-Key 已用于另一请求体",
                    "This Idempotency-Key was used with a different body",
                )
            if existing.state == "completed":
                return _replay(existing)
            # In progress: a twin is running, unless it crashed long ago (then take the key over).
            taken = (
                await conn.execute(
                    update(IdempotencyKey)
                    .where(
                        IdempotencyKey.id == existing.id, IdempotencyKey.created_at < func.now() - stale_after
                    )
                    .values(created_at=func.now())
                    .returning(IdempotencyKey.id)
                )
            ).scalar_one_or_none()
            if taken is None:
                raise conflict(
                    "REQUEST_IN_PROGRESS",
                    "相同 Idempotency-Key 的请求正在处理，请稍后重试",
                    "A request with this Idempotency-Key is still in progress; retry later",
                    headers={"Retry-After": "1"},
                )
            row_id = taken

    async def store(session: AsyncSession, response: Response) -> None:
        await session.execute(
            update(IdempotencyKey).where(IdempotencyKey.id == row_id).values(**_stored(response))
        )

    try:
        response = await _in_transaction(request, inner, before_commit=store)
    except Exception as exc:
        if problems.to_domain_error(exc) is None or problems.render(request, exc).status_code >= 500:
            await _release(db, row_id)
            raise
        response = problems.render(request, exc)
    if response.status_code >= 500:
        await _release(db, row_id)
    elif response.status_code >= 400:
        # The work rolled back; the 4xx answer is still the answer to this key.
        async with db.engine.begin() as conn:
            await conn.execute(
                update(IdempotencyKey).where(IdempotencyKey.id == row_id).values(**_stored(response))
            )
    return response


def _stored(response: Response) -> dict[str, Any]:
    headers = {k: v for k, v in response.headers.items() if k in REPLAYED_HEADERS}
    return {
        "state": "completed",
        "response_status": response.status_code,
        "response_headers": headers,
        "response_body": bytes(response.body),
        "completed_at": func.now(),
    }


def _replay(row: Any) -> Response:
    headers = dict(row.response_headers or {})
    headers["Idempotent-Replayed"] = "true"
    media_type = headers.pop("content-type", None)
    return Response(
        row.response_body or b"", status_code=row.response_status, headers=headers, media_type=media_type
    )


async def _release(db: Database, row_id: int) -> None:
    """A 5xx is not an answer: free the key so a retry runs again."""
    async with db.engine.begin() as conn:
        await conn.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id))
