"""Optimistic concurrency: ``version`` → ``ETag``; a write whose ``If-Match`` differs → 412."""

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
