"""Keyset pagination with an opaque cursor: ``?limit=`` (default 50, max 500) and ``?cursor=``."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.common import exports
from services.common.errors import invalid

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T] = Field(description="本页条目 (items of this page)")
    next_cursor: str | None = Field(description="下一页游标，没有更多时为 null (cursor of the next page)")


class PageParams(BaseModel):
    limit: int = 50
    cursor: str | None = None


def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="每页条数 (page size)")] = 50,
    cursor: Annotated[str | None, Query(description="分页游标 (opaque cursor)")] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


Paging = Annotated[PageParams, Depends(page_params)]


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([key]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not (isinstance(value, list) and len(value) == 1):
            raise ValueError(cursor)
        return value[0]
    except ValueError:
        raise invalid("INVALID_CURSOR", "分页游标无效", "The cursor is invalid") from None


async def paginate(
    session: AsyncSession, stmt: Select[Any], key: InstrumentedAttribute[Any], params: PageParams
) -> tuple[Sequence[Any], str | None]:
    """Rows after the cursor in ``key`` order, and the cursor of the next page (None at the end). An
    export (``exports.py``) counts its whole selection on its first page, before writing anything."""
    if params.cursor is None and exports.exporting():
        exports.check_count(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    if params.cursor is not None:
        stmt = stmt.where(key > decode_cursor(params.cursor))
    rows = (await session.execute(stmt.order_by(key).limit(params.limit + 1))).scalars().all()
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    return rows, encode_cursor(getattr(rows[-1], key.key))
