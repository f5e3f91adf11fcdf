"""Money: yuan as decimal strings with two decimals ("4500.00"), ``NUMERIC(16,2)`` in the database,
``Decimal`` in code, rounded half-up to the fen. Never a float."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, Strict

FEN = Decimal("0.01")


def to_fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


_PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _not_a_float(value: Any) -> Any:
    """Money is a plain decimal string (or an integer): never a float, an exponent, NaN or Infinity —
    ``Decimal`` would read "1e3" and "NaN" without complaint."""
    if isinstance(value, float):
        raise ValueError('money is written as a decimal string, e.g. "4500.00"')
    if isinstance(value, str) and not _PLAIN.fullmatch(value):
        raise ValueError('money is written as a plain decimal string, e.g. "4500.00"')
    return value


Money = Annotated[
    Decimal,
    Strict(False),  # a JSON string or integer (request models are strict otherwise)
    BeforeValidator(_not_a_float),
    Field(max_digits=16, decimal_places=2, ge=0),
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json"),
]
# A change of money (a simulation's cost delta): the same, and negative when it falls.
SignedMoney = Annotated[
    Decimal,
    Strict(False),
    BeforeValidator(_not_a_float),
    Field(max_digits=16, decimal_places=2),
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json"),
]


def exact_json(value: Any) -> bytes:
    """JSON text in which every ``Decimal`` is a JSON number written digit for digit (standards such as
    OCDS want amounts as numbers; going through ``float`` could change a fen). Other values as
    ``json.dumps`` writes them, keys in the given order."""

    def write(v: Any) -> str:
        if isinstance(v, Decimal):
            return format(v, "f")
        if isinstance(v, dict):
            return (
                "{"
                + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + write(x) for k, x in v.items())
                + "}"
            )
        if isinstance(v, list | tuple):
            return "[" + ",".join(write(x) for x in v) + "]"
        return json.dumps(v, ensure_ascii=False)

    return write(value).encode()
