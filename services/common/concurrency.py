"""Concurrency: optimistic versions (``version`` → ``ETag``; a write whose ``If-Match`` differs → 412),
and the rule for locks.

The rule for locks (issue 8). PostgreSQL keeps a row lock or a transaction-level advisory lock until
``COMMIT``, and every statement after taking it is a round trip to a service whose event loop is
serving other requests meanwhile: under load each round trip can cost milliseconds. A lock on a row
that many requests share is therefore a queue for all of them. So:

* prefer no shared row at all (the change feed numbers events by transaction id, ``changes.py``;
  idempotency keys lock only their own scope, ``transaction.py``);
* a row that is hot by design (a contract's ledger head, an allocation line's balance) is locked as
  late as possible — compute and validate everything first, then ``SELECT … FOR UPDATE`` (or an
  ``UPDATE … RETURNING`` that takes and uses the lock in one statement) as the last statements
  before ``COMMIT``, with the fewest round trips between the lock and the commit. The fewest is
  none: one statement that takes the lock, does the work and writes the audit rows and events
  itself (``changes.flush_ctes``), run as its own transaction (``transaction.single_write``), so the
  lock is held inside the database only — for the statement and its commit. A violation confirmed
  at once does this (``penalty_api/violations/store.py``: the violation, its ledger entry, the head,
  the audit row and the event, the event's ledger seq filled in by the database). That statement,
  and what follows it under an ``Idempotency-Key`` (the stored answer, ``COMMIT``), run on the driver
  connection (``database.Statement``): the least of the service's CPU between the lock and the
  commit. Where other statements must share the transaction (a keyed request, a reported violation
  confirmed under its row's lock), the statement is the last before ``COMMIT``;
* never hold a lock, or a pooled connection, across anything but the database: no HTTP call, no
  password hash, no file I/O (sign-in checks Argon2 after its short transaction, ``gateway/signin.py``);
* measure it: ``bench/writes.py`` samples ``pg_stat_activity`` — ``Lock:*`` waits and many
  ``idle in transaction`` backends are the signature of a lock held across round trips.
"""

from __future__ import annotations

from services.common.errors import precondition_failed


def etag(version: int) -> str:
    return f'"{version}"'


def check_if_match(if_match: str | None, current_version: int | None) -> None:
    """``If-Match`` absent: no check; ``*`` matches any existing version; else it must list the current."""
    if if_match is None:
        return
    if current_version is None:
        raise precondition_failed()
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if "*" not in tags and etag(current_version) not in tags:
        raise precondition_failed()
