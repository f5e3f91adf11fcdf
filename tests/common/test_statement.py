"""``database.Statement``: a statement declared in SQLAlchemy, run on asyncpg as SQLAlchemy would run it."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import BigInteger, Boolean, LargeBinary, Numeric, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.database import Statement, literal

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


# Values a client might send to break out of a literal, and the integers at bigint's ends.
HOSTILE = ["", "it's", "a\\'b", "'; DROP TABLE regions; --", "$$ $1 $$", "测试\n村\u2028", "\\x41"]
INTEGERS = [-(2**63), -1, 0, 2**63 - 1]
INLINED = text(
    "SELECT :t AS t, :b AS b, :n AS n, :flag AS flag, :doc ->> 'k' AS k, :none AS none"
).bindparams(
    bindparam("b", type_=LargeBinary),
    bindparam("n", type_=BigInteger),
    bindparam("flag", type_=Boolean),
    bindparam("doc", type_=JSONB),
)


@pytest.mark.parametrize("conforming", ["on", "off"])
async def test_an_inlined_statement_answers_what_the_bound_one_answers(
    engine: AsyncEngine, conforming: str
) -> None:
    """``Statement.inline`` writes every value as hexadecimal or decimal digits: whatever the value, and
    whether or not the server reads backslashes in literals as escapes, the text is the statement's
    own and the answer is the bound statement's."""
    stmt = Statement(INLINED)
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        await raw.execute(f"SET standard_conforming_strings = {conforming}")
        for t, n, flag in zip(HOSTILE, INTEGERS * 2, [True, False] * 4, strict=False):
            values = {
                "t": t,
                "b": t.encode() + b"\x00'\\",
                "n": n,
                "flag": flag,
                "doc": {"k": t},
                "none": None,
            }
            inlined = stmt.inline(values)
            # Every quote in the text is the statement's own or a hexadecimal literal's.
            assert "'" not in re.sub(r"decode\('[0-9a-f]*', 'hex'\)|'UTF8'|'k'", "", inlined)
            bound = await stmt.fetchrow(raw, values)
            assert bound is not None
            assert tuple(await raw.fetchrow(inlined)) == tuple(bound) == (t, values["b"], n, flag, t, None)
        await raw.execute("RESET standard_conforming_strings")


def test_what_cannot_be_inlined_is_refused() -> None:
    with pytest.raises(TypeError):
        Statement(ECHO).inline({"n": 1, "doc": {}, "amount": Decimal("1.50"), "label": "x"})  # no guessing
    with pytest.raises(ValueError, match=r"literal \$"):
        Statement(text("SELECT '$5' || :x")).inline({"x": "y"})
    assert literal(-(2**63)) == "(-9223372036854775808)" and literal(7) == "7" and literal(None) == "NULL"
    assert (
        literal("'") == "convert_from(decode('27', 'hex'), 'UTF8')" and literal(b"'") == "decode('27', 'hex')"
    )
