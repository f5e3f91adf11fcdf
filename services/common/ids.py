"""Database ids: positive and at most 2^53 - 1, checked at the edge (a larger number from a client is
a 422, not an overflow deep in a query). That is the largest integer a JavaScript client — the portal,
the mobile app — holds exactly; PostgreSQL's bigint sequences go further, but no table here will."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ID = 2**53 - 1

PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="编号 (id)")]
