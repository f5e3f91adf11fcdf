"""Money: yuan as decimal strings with two decimals ("4500.00"), ``NUMERIC(16,2)`` in the database,
``Decimal`` in code, rounded half-up to the fen. Never a float. And the other decimals a request
carries (scores, weights, shares): plain strings or integers, documented with their bounds."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, Strict, WithJsonSchema

FEN = Decimal("0.01")


def to_fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


_PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _not_a_float(value: Any) -> Any:
    """A decimal in a request is a plain decimal string (or an integer): never a float, an exponent,
    NaN or Infinity — ``Decimal`` would read "1e3" and "NaN" without complaint, and a float has
    already lost the exact value. (A JSON number with no fraction, 5.0, arrives as the integer 5.)"""
    if isinstance(value, (float, bool)):
        raise ValueError('a decimal is written as a string, e.g. "4500.00"')
    if isinstance(value, str) and not _PLAIN.fullmatch(value):
        raise ValueError('a decimal is written as a plain decimal string, e.g. "4500.00"')
    return value


def decimal_in(pattern: str, minimum: int | None = None, maximum: int | None = None) -> WithJsonSchema:
    """How a request decimal is documented: a string matching ``pattern`` (which carries the bounds,
    JSON Schema having no numeric bounds for strings), or a JSON integer within ``minimum`` and
    ``maximum`` (none when no integer is valid) — exactly what the validators accept, so a client
    (and the fuzzer) knows what is valid before asking."""
    branches: list[dict[str, Any]] = [{"type": "string", "pattern": pattern}]
    if minimum is not None and maximum is not None:
        branches.append({"type": "integer", "minimum": minimum, "maximum": maximum})
    return WithJsonSchema({"anyOf": branches} if len(branches) > 1 else branches[0], mode="validation")


def share_pattern(places: int, *, above_zero: bool = False, below_one: bool = False) -> str:
    """A share of 0–1 with at most ``places`` decimals: 0 excluded when ``above_zero``, 1 when
    ``below_one``."""
    nonzero = "|".join(f"0{{{i}}}[1-9][0-9]{{0,{places - i - 1}}}" for i in range(places))
    low = rf"0\.({nonzero})" if above_zero else rf"0(\.[0-9]{{1,{places}}})?"
    return f"^({low})$" if below_one else rf"^({low}|1(\.0{{1,{places}}})?)$"


PLAIN_DECIMAL = BeforeValidator(_not_a_float)
_TO_FEN = PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json")
_YUAN = r"[0-9]{1,14}(\.[0-9]{1,2})?"
_MAX_YUAN = 10**14 - 1
Money = Annotated[
    Decimal,
    Strict(False),  # a JSON string or integer (request models are strict otherwise)
    PLAIN_DECIMAL,
    Field(max_digits=16, decimal_places=2, ge=0),
    _TO_FEN,
    decimal_in(f"^{_YUAN}$", 0, _MAX_YUAN),
]
# A price, a wage, a payment: more than nothing.
PositiveMoney = Annotated[
    Decimal,
    Strict(False),
    PLAIN_DECIMAL,
    Field(max_digits=16, decimal_places=2, gt=0),
    _TO_FEN,
    decimal_in(r"^([1-9][0-9]{0,13}(\.[0-9]{1,2})?|0\.([1-9][0-9]?|0[1-9]))$", 1, _MAX_YUAN),
]
# A score of 0–100 with up to two decimals (bid evaluation, performance evaluation).
Score = Annotated[
    Decimal,
    Strict(False),
    PLAIN_DECIMAL,
    Field(ge=0, le=100, max_digits=5, decimal_places=2),
    decimal_in(r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$", 0, 100),
]
# A change of money (a simulation's cost delta): the same, and negative when it falls.
SignedMoney = Annotated[
    Decimal,
    Strict(False),
    PLAIN_DECIMAL,
    Field(max_digits=16, decimal_places=2),
    _TO_FEN,
    decimal_in(f"^-?{_YUAN}$", -_MAX_YUAN, _MAX_YUAN),
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
