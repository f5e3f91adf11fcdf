"""One transaction per request, committed before the response is sent, and ``Idempotency-Key``.

``TransactionalRoute`` wraps every endpoint: it opens the request's session, runs the endpoint,
writes the queued audit rows and change-feed events and commits *before* returning the response,
so a client never gets a 2xx for a change that did not commit.

With an ``Idempotency-Key`` on a POST, everything happens in that one transaction too. The key is
claimed with a transaction-level advisory lock on the key's scope (service, caller, method, route,
key), taken without waiting: a twin arriving while the first request runs fails to take it and
gets 409 ``REQUEST_IN_PROGRESS`` at once. The answer is stored in the same transaction as the work,
so the key is released only by the commit that makes the answer visible, or by a rollback (a 5xx,
a crash, a dropped connection: PostgreSQL frees the lock itself, and the retry runs again at once).
The spec's hint — a claim row committed in its own transaction before the work — gives the same
answers, but cost every keyed write a second commit (a WAL flush) and left a crashed request's key
"in progress" until it was presumed stale. A 4xx answer is stored too, after its work is rolled
back (not in a savepoint: two more round trips on every keyed write, for the rarer answer).

A request whose only write is one statement that writes its own audit rows and events
(``changes.flush_ctes``) may say so with ``single_write``: its statements then commit one by one, with
no ``BEGIN`` or ``COMMIT`` round trips (a quarter of a simple write's CPU here, and for a hot row the
difference between a lock held across the service's event loop and one held inside the database).
A read (GET, HEAD) runs that way too: at READ COMMITTED each statement of a transaction takes its own
snapshot anyway, so the transaction bought a read nothing but two round trips (``GET /regions/{code}``
at one connection: 748–792 → 887–893/s, bench/README.md) and a connection idle in a transaction
between its statements. A read that writes through the ORM or queues a change is a 500.

Before adding a lock anywhere, read the rule for locks in ``concurrency.py``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import BigInteger, LargeBinary, bindparam, event, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session as OrmSession

from services.common import exports, problems
from services.common.auth.deps import authenticate
from services.common.changes import discard_pending, flush_events, has_pending
from services.common.database import Database
from services.common.errors import DomainError, conflict, invalid
from services.common.models import IdempotencyKey

KEY_MAX = 200
# Set on a session whose statements each commit as they run (a read, a ``single_write``).
ALONE = "jiuzhu.statements_alone"
REPLAYED_HEADERS = ("content-type", "location", "etag")


async def session_of(request: Request) -> AsyncSession:
    """The request's session (dependency); opened and committed by ``TransactionalRoute``.
    (``async``: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per request.)"""
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


def lock_key(scope: dict[str, str]) -> int:
    """The advisory lock of one idempotency scope: 64 bits of its SHA-256 (a collision would only
    make two unrelated requests take turns)."""
    raw = "\x1f".join(scope[k] for k in ("service", "sub", "method", "route", "key"))
    return int.from_bytes(hashlib.sha256(raw.encode()).digest()[:8], "big", signed=True)


def _valid_key(key: str) -> bool:
    return 1 <= len(key) <= KEY_MAX and all(33 <= ord(c) <= 126 for c in key)


# The one way a route asks for the request's session.
Session = Annotated[AsyncSession, Depends(session_of)]

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]

# The idempotency statements are built once: a write's CPU goes on building statements as much as
# on running them, and these run on every keyed POST of every service.
_SCOPE = ("service", "sub", "method", "route", "key")
# One round trip for a new key: take the scope's lock without waiting and, if taken, insert the
# claim. ``ON CONFLICT`` sees a committed answer even when this statement's snapshot predates it.
_CLAIM = text(
    """
    WITH attempt AS (SELECT pg_try_advisory_xact_lock(:lock) AS locked),
    claim AS (
        INSERT INTO idempotency_keys (service, sub, method, route, key, request_hash, state)
        SELECT :service, :sub, :method, :route, :key, :request_hash, 'in_progress' FROM attempt WHERE locked
        ON CONFLICT ON CONSTRAINT uq_idempotency_scope DO NOTHING
        RETURNING id
    )
    SELECT attempt.locked, (SELECT id FROM claim) AS claimed FROM attempt
    """
).bindparams(bindparam("lock", type_=BigInteger))
_COMPLETE = (
    update(IdempotencyKey)
    .where(IdempotencyKey.id == bindparam("claimed"))
    .values(
        state="completed",
        response_status=bindparam("status"),
        response_headers=bindparam("headers", type_=JSONB),
        response_body=bindparam("body", type_=LargeBinary),
        completed_at=func.now(),
    )
)
_LOCK = select(func.pg_advisory_xact_lock(bindparam("lock", type_=BigInteger)))
_LOOKUP = select(
    IdempotencyKey.state,
    IdempotencyKey.request_hash,
    IdempotencyKey.response_status,
    IdempotencyKey.response_headers,
    IdempotencyKey.response_body,
).where(*(getattr(IdempotencyKey, c) == bindparam(c) for c in _SCOPE))
_ANSWER = ("request_hash", "response_status", "response_headers", "response_body")
_STORE = (
    insert(IdempotencyKey)
    .values(
        {**{c: bindparam(c) for c in (*_SCOPE, *_ANSWER)}, "state": "completed", "completed_at": func.now()}
    )
    .on_conflict_do_update(
        constraint="uq_idempotency_scope",
        set_={
            **{c: getattr(insert(IdempotencyKey).excluded, c) for c in _ANSWER},
            "state": "completed",
            "completed_at": func.now(),
        },
    )
)


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Endpoint:
        inner = super().get_route_handler()
        route_path = self.path
        declared = self.openapi_extra if "x-jiuzhu-export" in (self.openapi_extra or {}) else None
        response_model = self.response_model

        async def handler(request: Request) -> Response:
            await _read_json(request)
            key = request.headers.get("idempotency-key")
            if request.method == "POST" and key is not None:
                return await _idempotent(request, route_path, key, inner)
            fmt = exports.requested(request) if declared is not None else None
            if fmt is not None and declared is not None:
                async with _open(request, alone=True):  # a read: nothing to commit
                    return await exports.export(request, inner, declared, response_model, fmt)
            return await _in_transaction(request, inner)

        return handler


def _integral(literal: str) -> int | float:
    """JSON Schema counts 5.0 as an integer, and so does the API: a number written with a fraction
    of zeros is read as the integer it is (exactly, through ``Decimal``), so the strict request
    models take it where an integer is due. Any other fraction stays a float, which integer fields
    and decimals (money, scores) refuse."""
    value = Decimal(literal)
    return int(value) if value.is_finite() and value == value.to_integral_value() else float(literal)


async def _read_json(request: Request) -> None:
    """Parse a JSON body once, the API's way (``_integral``), before FastAPI asks for it."""
    if "json" not in request.headers.get("content-type", ""):
        return
    body = await request.body()
    if not body:
        return
    try:
        request._json = json.loads(body, parse_float=_integral)
    except (ValueError, RecursionError):
        return  # FastAPI answers the malformed body itself (400 MALFORMED_JSON)


def _open(request: Request, *, alone: bool = False) -> AsyncSession:
    """The request's session; ``alone``: each statement commits as it runs (a read)."""
    db: Database = request.app.state.db
    session = (db.autocommit_sessionmaker if alone else db.sessionmaker)()
    session.info["service"] = request.app.state.service_name
    session.info["request_id"] = getattr(request.state, "request_id", "-")
    if alone:
        session.info[ALONE] = True
    request.state.session = session
    return session


READS = frozenset({"GET", "HEAD"})


async def _in_transaction(request: Request, inner: Endpoint) -> Response:
    async with _open(request, alone=request.method in READS) as session:
        response = await inner(request)  # exceptions propagate; the context manager rolls back
        if response.status_code >= 400:
            await session.rollback()
            return response
        if session.info.get(ALONE):
            if has_pending(session):
                raise RuntimeError("a request whose statements commit alone left changes for a transaction")
            return response  # each statement committed as it ran: no COMMIT to send
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
    scope = {
        "service": request.app.state.service_name,
        "sub": principal.sub,
        "method": request.method,
        "route": route,
        "key": key,
    }
    lock = {"lock": lock_key(scope)}
    async with _open(request) as session:
        conn = await session.connection()
        attempt = (await conn.execute(_CLAIM, {**lock, **scope, "request_hash": digest})).one()
        claimed: int | None = attempt.claimed
        if claimed is None:
            # A statement of its own: its snapshot sees an answer committed by a twin that held
            # the lock until just now.
            stored = await _stored_answer(conn, scope, digest)
            if stored is not None:
                return stored
            if not attempt.locked:
                raise conflict(
                    "REQUEST_IN_PROGRESS",
                    "相同 Idempotency-Key 的请求正在处理，请稍后重试",
                    "A request with this Idempotency-Key is still in progress; retry later",
                    headers={"Retry-After": "1"},
                )
            # Locked, yet a row is there: a claim left "in_progress" by the earlier design (a claim
            # committed before the work). This answer replaces it.
        try:
            response = await inner(request)
        except Exception as exc:
            if problems.to_domain_error(exc) is None:
                raise
            response = problems.render(request, exc)
            if response.status_code >= 500:
                raise
        if response.status_code >= 500:
            return response  # not an answer: the rollback frees the key
        if response.status_code >= 400:
            # The work is undone, and with it the lock; the 4xx is stored in a transaction of its
            # own under the lock taken again (waiting, briefly). A twin that slipped in between
            # and stored its answer first has the key: that answer is the one returned.
            await session.rollback()
            discard_pending(session)
            conn = await session.connection()
            await conn.execute(_LOCK, lock)
            stored = await _stored_answer(conn, scope, digest)
            if stored is not None:
                return stored
            claimed = None  # the claim went with the rollback
        else:
            await flush_events(session)
        answer = _answer(response)
        conn = await session.connection()  # a route may have committed a step (``commit_step``)
        if claimed is not None:
            await conn.execute(
                _COMPLETE,
                {
                    "claimed": claimed,
                    "status": answer["response_status"],
                    "headers": answer["response_headers"],
                    "body": answer["response_body"],
                },
            )
        else:
            await conn.execute(_STORE, {**scope, "request_hash": digest, **answer})
        await session.commit()
        return response


async def commit_step(session: AsyncSession) -> None:
    """Commit what the request has done so far — its audit rows and events with it — and give the
    connection back, for the one kind of route that must: a write that calls another service over
    HTTP between two steps (contract_api's payments). Never hold a transaction, its locks or a pooled
    connection across an HTTP call (``concurrency.py``); the next statement opens a new transaction,
    which ``TransactionalRoute`` commits as usual."""
    await flush_events(session)
    await session.commit()


async def single_write(session: AsyncSession) -> bool:
    """Declare, before the request's first statement, that its only write is its last statement and
    that this statement writes the audit rows and events itself (``changes.flush_ctes``). Each
    statement then runs as its own transaction: no ``BEGIN`` and no ``COMMIT`` round trips, and a hot
    row locked by that statement is held inside the database only — for the statement and its WAL
    flush, never while this service's event loop serves other requests (``concurrency.py``). Reads
    before it see the latest committed data each, as they do in a READ COMMITTED transaction.

    Under an ``Idempotency-Key`` the request is already in its claim's transaction (the stored answer
    must commit with the work): nothing changes, and False says so. An ORM write, or changes left
    queued for ``flush_events``, in such a request is a programming error (``_guard_statements_alone``)."""
    if session.in_transaction():
        return False
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    session.info[ALONE] = True
    return True


@event.listens_for(OrmSession, "before_flush")
def _guard_statements_alone(session: OrmSession, _context: object, _instances: object) -> None:
    if session.info.get(ALONE) and (session.new or session.dirty or session.deleted):
        raise RuntimeError("an ORM write in a request whose statements commit alone (a read, a single_write)")


async def _stored_answer(conn: AsyncConnection, scope: dict[str, str], digest: str) -> Response | None:
    """The answer already stored for this key (replayed), 422 if it was for another body, or None."""
    row = (await conn.execute(_LOOKUP, scope)).one_or_none()
    if row is None or row.state != "completed":
        return None
    if row.request_hash != digest:
        raise _reused()
    return _replay(row)


def _reused() -> DomainError:
    return invalid(
        "IDEMPOTENCY_KEY_REUSED",
        "该 Idempotency-Key 已用于另一请求体",
        "This Idempotency-Key was used with a different body",
    )


def _answer(response: Response) -> dict[str, Any]:
    headers = {k: v for k, v in response.headers.items() if k in REPLAYED_HEADERS}
    return {
        "response_status": response.status_code,
        "response_headers": headers,
        "response_body": bytes(response.body),
    }


def _replay(row: Any) -> Response:
    headers = dict(row.response_headers or {})
    headers["Idempotent-Replayed"] = "true"
    media_type = headers.pop("content-type", None)
    return Response(
        row.response_body or b"", status_code=row.response_status, headers=headers, media_type=media_type
    )
