"""``database.Statement``: a statement declared in SQLAlchemy, run on asyncpg as SQLAlchemy would run it."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import BigInteger, Numeric, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.database import Statement

ECHO = text(
    "SELECT :n + :n AS twice, :doc ->> 'k' AS k, :amount AS amount, :label AS label, 'fixed' AS fixed"
).bindparams(
    bindparam("n", type_=BigInteger), bindparam("doc", type_=JSONB), bindparam("amount", type_=Numeric(16, 2))
)


def test_parameters_by_name_in_the_compiled_order_converted_by_their_types() -> None:
    stmt = Statement(ECHO)
    args = stmt.args({"label": "甲", "amount": Decimal("1.50"), "doc": {"k": "值"}, "n": 2})
    # One position per name, however often the SQL uses it; JSON serialised as SQLAlchemy does.
    assert stmt.sql.count("$1") == 2 and "$4" in stmt.sql and "$5" not in stmt.sql
    assert args[0] == 2 and json.loads(args[1]) == {"k": "值"} and args[2:] == [Decimal("1.50"), "甲"]
    assert stmt.args({"label": None, "amount": None, "doc": None, "n": None}) == [None] * 4
    with pytest.raises(KeyError):
        stmt.args({"n": 1})


async def test_it_answers_what_sqlalchemy_answers(engine: AsyncEngine) -> None:
    values = {"label": "乙", "amount": Decimal("2.25"), "doc": {"k": "v"}, "n": 21}
    async with engine.connect() as conn:
        through_session = (await conn.execute(ECHO, values)).one()
        raw = (await conn.get_raw_connection()).driver_connection
        row = await Statement(ECHO).fetchrow(raw, values)
    assert row is not None
    assert tuple(row.values()) == tuple(through_session) == (42, "v", Decimal("2.25"), "乙", "fixed")
