"""State machines as data: one table of (state, action) → next state and who may act, read by the
routes that move a resource and by the tests that walk every pair."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common.concurrency import check_if_match
from services.common.errors import conflict


@dataclass(frozen=True)
class Step:
    target: str
    roles: frozenset[str]


Table = Mapping[tuple[str, str], Step]


def allowed_actions(table: Table, state: str) -> list[str]:
    return sorted(action for (source, action) in table if source == state)


def step(table: Table, state: str, action: str) -> Step:
    """The step ``action`` takes from ``state``, or 409 ``ILLEGAL_TRANSITION`` naming the allowed ones."""
    found = table.get((state, action))
    if found is None:
        allowed = ", ".join(allowed_actions(table, state)) or "—"
        raise conflict(
            "ILLEGAL_TRANSITION",
            f"当前状态 {state} 不能执行 {action}；可执行：{allowed}",
            f"{action} is not allowed in state {state}; allowed: {allowed}",
        )
    return found


def advance(table: Table, state: str, action: str, *, version: int, if_match: str | None) -> str:
    """The one check every transition endpoint makes: the caller's ``If-Match`` (412 when stale),
    then the table (409 when illegal). Returns the next state."""
    check_if_match(if_match, version)
    return step(table, state, action).target
