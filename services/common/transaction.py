"""One transaction per request, committed before the response is sent, and ``Idempotency-Key``.

``TransactionalRoute`` wraps every endpoint: it opens the request's session, runs the endpoint,
writes the queued audit rows and change-feed events and commits *before* returning the response,
so a client never gets a 2xx for a change that did not commit.

The shared layer begins and ends a write's transaction itself, on the request's one connection.
The request's session is SQLAlchemy's with the driver in autocommit (``Database.request_sessionmaker``),
so SQLAlchemy sends no ``BEGIN`` or ``COMMIT`` of its own; the request's first statement, by the ORM
or by a ``Statement``, takes the connection from the pool and sends ``BEGIN`` on it
(``database.take``), and ``_end`` sends ``COMMIT`` or ``ROLLBACK``. The ORM, its flushes and every
store work inside that transaction as before. What it buys: the statements on the path every write
takes — the idempotency claim and answer, the audit rows and events — run as
``database.Statement``s on the same connection, ~100 µs of CPU each cheaper than through
``session.execute`` (bench/README.md), and a request that runs only those never asks SQLAlchemy's
session for a connection at all. What it asks: a connection must never go back to the pool inside a
transaction (the driver would not roll it back), so ``_request_session`` ends it in every case — an
answer, a 4xx, an exception, a cancelled request — and a connection whose ``ROLLBACK`` fails is
discarded, not reused (``database.release``).

With an ``Idempotency-Key`` on a POST, everything happens in that one transaction too. The key is
claimed with a transaction-level advisory lock on the key's scope (service, caller, method, route,
key), taken without waiting: a twin arriving while the first request runs fails to take it and
gets 409 ``REQUEST_IN_PROGRESS`` at once. The answer is stored in the same transaction as the work,
so the key is released only by the commit that makes the answer visible, or by a rollback (a 5xx,
a crash, a dropped connection: PostgreSQL frees the lock itself, and the retry runs again at once).
Under the lock, nothing but the answer needs a row: the first statement takes the lock and looks the
key up (``idempotency.TAKE``), and the key's row is inserted once, with its answer, at the end
(``idempotency.ANSWER``) — an insert and no update: about a fifth less of PostgreSQL's CPU per
keyed write (bench/README.md, "Fewer round trips for a keyed write, and one row for its key"). That
look-up's snapshot predates its lock, so a twin's answer committed in between is met by the
answer's insert instead (its ``ON CONFLICT``): the work is undone and the twin's answer returned.
The spec's hint — a claim row committed in its own transaction before the work — gives the same
answers, but cost every keyed write a second commit (a WAL flush) and left a crashed request's key
"in progress" until it was presumed stale. A 4xx answer is stored too, after its work is rolled
back (not in a savepoint: two more round trips on every keyed write, for the rarer answer). A route
that commits a first step (``commit_step``) writes its claim "in progress" and commits it with the
step, which frees the lock: the claim then keeps the key for ``idempotency_claim_seconds``
(``idempotency.stored_answer``), and a 5xx after the step deletes it (``_free_committed_claim``).

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

import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as OrmSession

from services.common import exports, idempotency, problems
from services.common.auth.deps import authenticate
from services.common.changes import discard_pending, flush_events, has_pending
from services.common.database import ALONE, DRIVER, OWN, Database, driver, release
from services.common.errors import DomainError

log = logging.getLogger("jiuzhu.db")
STEPPED = "jiuzhu.committed_step"  # a commit_step ran: the request's claim, if any, is committed
KEYED = "jiuzhu.idempotency_scope"  # the request holds its key's lock: its scope, body hash, claim life
CLAIM_ID = "jiuzhu.claim_id"  # the claim a commit_step committed in progress for it

READS = frozenset({"GET", "HEAD"})


async def session_of(request: Request) -> AsyncSession:
    """The request's session (dependency); opened and committed by ``TransactionalRoute``.
    (``async``: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per request.)"""
    session: AsyncSession = request.state.session
    return session


# The one way a route asks for the request's session.
Session = Annotated[AsyncSession, Depends(session_of)]

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


async def _end(session: AsyncSession, command: str) -> None:
    """``COMMIT`` or ``ROLLBACK`` the transaction ``database.take`` began, if one is open. When that
    fails and leaves the connection broken or still inside the transaction (its backend gone, the
    request cancelled meanwhile), the connection is discarded at once (``database.release``): the
    next statement takes another. A failed ``COMMIT`` is the request's error (nothing was
    committed); a failed ``ROLLBACK`` is only logged, and the request keeps its own answer or error."""
    conn: asyncpg.Connection | None = session.info.pop(DRIVER, None)
    if conn is None:
        return
    try:
        await conn.execute(command)
    except BaseException as exc:
        if conn.is_closed() or conn.is_in_transaction():
            log.warning("%s failed (%s); the connection is discarded", command, type(exc).__name__)
            await session.run_sync(release)
        if command == "COMMIT" or not isinstance(exc, Exception):
            raise


async def _commit(session: AsyncSession) -> None:
    """Write what is queued — the ORM's pending rows, then the audit rows and events — and commit.
    SQLAlchemy's side of the session is left to ``close`` (it has nothing to send)."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    await flush_events(session)
    await _end(session, "COMMIT")


async def _rollback(session: AsyncSession) -> None:
    await session.rollback()  # SQLAlchemy's side first: in autocommit it sends nothing
    await _end(session, "ROLLBACK")


def _close(session: OrmSession) -> None:
    try:
        session.close()
    finally:
        release(session)


@asynccontextmanager
async def _request_session(request: Request, *, alone: bool = False) -> AsyncIterator[AsyncSession]:
    """The request's session; ``alone``: each statement commits as it runs (a read). Whatever happens
    inside, the transaction is ended before the connection goes back to the pool."""
    db: Database = request.app.state.db
    session = db.request_sessionmaker()
    session.info["service"] = request.app.state.service_name
    session.info["request_id"] = getattr(request.state, "request_id", "-")
    session.info[ALONE if alone else OWN] = True
    request.state.session = session
    try:
        yield session
    finally:
        try:
            await _end(session, "ROLLBACK")  # nothing to do after a commit
        finally:
            await session.run_sync(_close)


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
                async with _request_session(request, alone=True):  # a read: nothing to commit
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


async def _in_transaction(request: Request, inner: Endpoint) -> Response:
    async with _request_session(request, alone=request.method in READS) as session:
        response = await inner(request)  # exceptions propagate; _request_session rolls back
        if response.status_code >= 400:
            await _rollback(session)
            return response
        if session.info.get(ALONE):
            if has_pending(session):
                raise RuntimeError("a request whose statements commit alone left changes for a transaction")
            return response  # each statement committed as it ran: no COMMIT to send
        await _commit(session)
        return response


async def _idempotent(request: Request, route: str, key: str, inner: Endpoint) -> Response:
    if not idempotency.valid_key(key):
        raise idempotency.invalid_key()
    principal = await authenticate(request)
    digest = idempotency.body_hash(request.headers.get("content-type", ""), await request.body())
    scope = {
        "service": request.app.state.service_name,
        "sub": principal.sub,
        "method": request.method,
        "route": route,
        "key": key,
    }
    lock = {"lock": idempotency.lock_key(scope)}
    claim_seconds: float = request.app.state.settings.idempotency_claim_seconds
    async with _request_session(request) as session:
        taken = await idempotency.TAKE.fetchrow(await driver(session), {**lock, **scope})  # one row
        locked, found = (bool(taken["locked"]), taken["found"]) if taken is not None else (False, None)
        taken_over = False
        if not locked or found is not None:
            # A statement of its own: its snapshot sees an answer committed by a twin that held
            # the lock until just now.
            conn = await session.connection()
            stored = await idempotency.stored_answer(conn, scope, digest, claim_seconds)
            if stored is not None:
                return stored
            if not locked:
                raise idempotency.in_progress()
            # Locked, yet a row is there: a claim committed in progress and presumed dead
            # (``stored_answer``). This answer replaces it.
            taken_over = True
        session.info[KEYED] = {**scope, "request_hash": digest, "claim_seconds": claim_seconds}
        try:
            response = await inner(request)
        except Exception as exc:
            if isinstance(exc, DomainError) and exc.code == "REQUEST_IN_PROGRESS":
                raise  # commit_step found a twin's claim: not an answer to store
            answered = problems.render(request, exc) if problems.to_domain_error(exc) else None
            if answered is None or answered.status_code >= 500:
                await _free_committed_claim(session)
                raise
            response = answered
        if response.status_code >= 500:
            await _free_committed_claim(session)
            return response  # not an answer: the rollback frees the key
        answer = idempotency.answer(response)
        store = {**scope, "request_hash": digest, **answer}
        claimed: int | None = session.info.get(CLAIM_ID)  # committed in progress by a first step
        if response.status_code >= 400:
            return await _store_refusal(session, response, lock, store, claim_seconds)
        if session.new or session.dirty or session.deleted:
            await session.flush()  # the work's own statements first, then its answer
        if claimed is not None:
            # On the connection of the transaction now open, after the step.
            await idempotency.COMPLETE.execute(await driver(session), {"claimed": claimed, **answer})
        elif taken_over:
            await (await session.connection()).execute(idempotency.STORE, store)
        elif await idempotency.ANSWER.fetchrow(await driver(session), store) is None:
            # A twin committed its answer after TAKE's snapshot and before its lock: that answer is
            # the key's, and this request's work is undone.
            await _rollback(session)
            discard_pending(session)
            stored = await idempotency.stored_answer(await session.connection(), scope, digest, claim_seconds)
            if stored is None:
                raise idempotency.in_progress()
            return stored
        await _commit(session)
        return response


async def _store_refusal(
    session: AsyncSession,
    response: Response,
    lock: dict[str, int],
    store: dict[str, Any],
    claim_seconds: float,
) -> Response:
    """A 4xx under a key: the work is undone, and with it the lock; the 4xx is stored in a transaction
    of its own under the lock taken again (waiting, briefly). A twin that slipped in between and
    stored its answer first has the key: that answer is the one returned."""
    await _rollback(session)
    discard_pending(session)
    conn = await session.connection()
    await conn.execute(idempotency.LOCK, lock)
    scope = {k: store[k] for k in idempotency.SCOPE}
    own = session.info.get(CLAIM_ID)
    stored = await idempotency.stored_answer(conn, scope, store["request_hash"], claim_seconds, own=own)
    if stored is not None:
        return stored
    await conn.execute(idempotency.STORE, store)
    await _commit(session)
    return response


async def _free_committed_claim(session: AsyncSession) -> None:
    """A 5xx or an error after ``commit_step``: the rollback cannot free the key, whose claim that
    step committed, so the claim is deleted — the retry then runs at once instead of waiting
    ``idempotency_claim_seconds``. When that fails too (the database gone), the claim expires."""
    claimed: int | None = session.info.get(CLAIM_ID)
    if claimed is None or not session.info.get(STEPPED):
        return
    try:
        await _rollback(session)
        discard_pending(session)
        await idempotency.FREE.execute(await driver(session), {"claimed": claimed})
        await _end(session, "COMMIT")
    except Exception as exc:  # the request's own error is the one to report
        log.warning("an in-progress claim could not be freed (%s); it expires", type(exc).__name__)


async def commit_step(session: AsyncSession) -> None:
    """Commit what the request has done so far — its audit rows and events with it — and give the
    connection back, for the one kind of route that must: a write that calls another service over
    HTTP between two steps (contract_api's payments). Never hold a transaction, its locks or a pooled
    connection across an HTTP call (``concurrency.py``); the next statement begins a new transaction,
    which ``TransactionalRoute`` commits as usual."""
    keyed: dict[str, object] | None = session.info.get(KEYED)
    if keyed is not None and CLAIM_ID not in session.info:
        # Under a key, the step commits its claim "in progress": a twin then hears 409 while this
        # request calls the other service. A twin that answered or claimed first (after TAKE's
        # snapshot) has the key: the step is not committed, and the 409 is not stored (a retry
        # gets that twin's answer).
        claimed = await idempotency.CLAIM.fetchrow(await driver(session), keyed)
        if claimed is None:
            raise idempotency.in_progress()
        session.info[CLAIM_ID] = claimed["id"]
    await _commit(session)
    await session.commit()  # SQLAlchemy's side (it sends nothing)
    await session.run_sync(release)  # the connection goes back to the pool
    session.info[STEPPED] = True  # under a key, its claim is now committed in progress


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
    if DRIVER in session.info:  # a transaction is open
        return False
    session.info[ALONE] = True
    return True


@event.listens_for(OrmSession, "before_flush")
def _guard_statements_alone(session: OrmSession, _context: object, _instances: object) -> None:
    if session.info.get(ALONE) and (session.new or session.dirty or session.deleted):
        raise RuntimeError("an ORM write in a request whose statements commit alone (a read, a single_write)")
