"""Database ids: positive and within PostgreSQL's bigint, checked at the edge (a larger number from a
client is a 422, not an overflow deep in a query)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ID = 2**63 - 1

PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="编号 (id)")]
