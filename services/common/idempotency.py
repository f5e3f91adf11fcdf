"""``Idempotency-Key``: the key's scope, its statements and its stored answers (README *Idempotency*).

The flow — lock, work, answer, all in the request's one transaction — is ``transaction.py``'s; this
module holds what it is made of. The statements on the path every keyed write takes (the lock and
look-up, the answer) are ``database.Statement``s, run on the driver connection; the rest (a replay,
a 4xx stored after its work was rolled back) run through SQLAlchemy like any other statement.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from fastapi import Response
from sqlalchemy import (
    BigInteger,
    Float,
    LargeBinary,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.database import Statement
from services.common.errors import DomainError, conflict, invalid
from services.common.models import IdempotencyKey

KEY_MAX = 200
REPLAYED_HEADERS = ("content-type", "location", "etag")
SCOPE = ("service", "sub", "method", "route", "key")


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
    raw = "\x1f".join(scope[k] for k in SCOPE)
    return int.from_bytes(hashlib.sha256(raw.encode()).digest()[:8], "big", signed=True)


def valid_key(key: str) -> bool:
    return 1 <= len(key) <= KEY_MAX and all(33 <= ord(c) <= 126 for c in key)


def invalid_key() -> DomainError:
    return invalid(
        "INVALID_IDEMPOTENCY_KEY",
        "Idempotency-Key 须为 1–200 个可见 ASCII 字符",
        "Idempotency-Key must be 1-200 visible ASCII characters",
    )


def in_progress() -> DomainError:
    return conflict(
        "REQUEST_IN_PROGRESS",
        "相同 Idempotency-Key 的请求正在处理，请稍后重试",
        "A request with this Idempotency-Key is still in progress; retry later",
        headers={"Retry-After": "1"},
    )


def reused() -> DomainError:
    return invalid(
        "IDEMPOTENCY_KEY_REUSED",
        "该 Idempotency-Key 已用于另一请求体",
        "This Idempotency-Key was used with a different body",
    )


_IN_SCOPE = [getattr(IdempotencyKey, c) == bindparam(c) for c in SCOPE]
# A keyed write's first statement: the scope's lock, taken without waiting, and the row the key has
# already, if any (``found``). No claim is written here: under the lock, a new key's answer is
# inserted once, with the work (``ANSWER``), instead of a claim inserted first and updated at the
# end — one row version written, not two (bench/keyed_sql.py). The look-up's snapshot is taken as
# the statement starts, before the lock is: a twin that commits its answer in between is found by
# ``ANSWER``'s conflict instead (``transaction._idempotent``).
TAKE = Statement(
    select(
        func.pg_try_advisory_xact_lock(bindparam("lock", type_=BigInteger)).label("locked"),
        select(IdempotencyKey.id).where(*_IN_SCOPE).scalar_subquery().label("found"),
    )
)
_ANSWER = ("request_hash", "response_status", "response_headers", "response_body")
_ANSWER_TYPES = (
    bindparam("response_headers", type_=JSONB),
    bindparam("response_body", type_=LargeBinary),
)
# A new key's answer, under its lock. ``ON CONFLICT`` sees a row committed after the statement's
# snapshot, so an answer a twin committed just before the lock was taken stops it: no row returned.
ANSWER = Statement(
    insert(IdempotencyKey)
    .values(
        {
            **{c: bindparam(c) for c in (*SCOPE, "request_hash", "response_status")},
            **{b.key: b for b in _ANSWER_TYPES},
            "state": "completed",
            "completed_at": func.now(),
        }
    )
    .on_conflict_do_nothing(constraint="uq_idempotency_scope")
    .returning(IdempotencyKey.id)
)
# The claim a first step commits "in progress" (``transaction.commit_step``): a new row, or the dead
# claim this request took over, made young again (else a twin would take it over in turn while this
# request calls the other service). No row returned, as for ``ANSWER``, when a twin's answer or live
# claim was committed after TAKE's snapshot.
_claim = insert(IdempotencyKey).values(
    {**{c: bindparam(c) for c in (*SCOPE, "request_hash")}, "state": "in_progress"}
)
CLAIM = Statement(
    _claim.on_conflict_do_update(
        constraint="uq_idempotency_scope",
        set_={"request_hash": _claim.excluded.request_hash, "created_at": func.now()},
        where=(IdempotencyKey.state == "in_progress")
        & (
            func.extract("epoch", func.now() - IdempotencyKey.created_at)
            >= bindparam("claim_seconds", type_=Float)
        ),
    ).returning(IdempotencyKey.id)
)
# The answer, into the claim that request committed.
COMPLETE = Statement(
    update(IdempotencyKey)
    .where(IdempotencyKey.id == bindparam("claimed"))
    .values(
        state="completed",
        response_status=bindparam("response_status"),
        response_headers=bindparam("response_headers", type_=JSONB),
        response_body=bindparam("response_body", type_=LargeBinary),
        completed_at=func.now(),
    )
)
# A claim committed in progress by a first step (``transaction.commit_step``), given up after a 5xx.
FREE = Statement(
    delete(IdempotencyKey).where(
        IdempotencyKey.id == bindparam("claimed"), IdempotencyKey.state == "in_progress"
    )
)
# The scope's lock taken again, waiting (a 4xx stored after its work was rolled back).
LOCK = select(func.pg_advisory_xact_lock(bindparam("lock", type_=BigInteger)))
_LOOKUP = select(
    IdempotencyKey.id,
    IdempotencyKey.state,
    IdempotencyKey.request_hash,
    IdempotencyKey.response_status,
    IdempotencyKey.response_headers,
    IdempotencyKey.response_body,
    (func.now() - IdempotencyKey.created_at).label("age"),  # the database's clock, not this process's
).where(*_IN_SCOPE)
STORE = (
    insert(IdempotencyKey)
    .values(
        {**{c: bindparam(c) for c in (*SCOPE, *_ANSWER)}, "state": "completed", "completed_at": func.now()}
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


async def stored_answer(
    conn: AsyncConnection, scope: dict[str, str], digest: str, claim_seconds: float, own: int | None = None
) -> Response | None:
    """The answer already stored for this key (replayed), 422 if it was for another body, or None:
    no row, or a claim to take over — or this request's own (``own``: its claim's id), committed by
    its first step before a 4xx.

    A claim is committed "in progress" only by a write that commits a first step before calling
    another service (``transaction.commit_step``, a payment); its advisory lock went with that
    commit. Younger than ``claim_seconds`` its request is taken to be still running (409, as while
    the lock is held: nothing is done twice). Older, its process is taken to have died between
    the steps, and the retry takes the claim over: such a write is built to be finished by a
    retry. (So was a claim left by the design before issue 8, committed before the work.)"""
    row = (await conn.execute(_LOOKUP, scope)).one_or_none()
    if row is None:
        return None
    if row.state != "completed":
        if row.id != own and row.age < timedelta(seconds=claim_seconds):
            raise in_progress()
        return None
    if row.request_hash != digest:
        raise reused()
    return _replay(row)


def answer(response: Response) -> dict[str, Any]:
    """What is stored of a response: its status, the headers a replay repeats, its body."""
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
