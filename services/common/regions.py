"""Region codes (GB/T 2260 and statistical division codes): normalization and scope tests.

Canonical codes keep the significant digits only: 2 (province), 4 (prefecture), 6 (county),
9 (township) or 12 (village/community) digits. Padded forms such as ``530100`` or
``530102001000`` are accepted and normalized by dropping trailing all-zero groups.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Literal

Level = Literal["province", "prefecture", "county", "township", "village"]

LEVEL_BY_LENGTH: dict[int, Level] = {
    2: "province",
    4: "prefecture",
    6: "county",
    9: "township",
    12: "village",
}
LENGTH_BY_LEVEL: dict[Level, int] = {v: k for k, v in LEVEL_BY_LENGTH.items()}
# Group boundaries: province 2, prefecture +2, county +2, township +3, village +3.
_GROUPS = (2, 4, 6, 9, 12)
_DIGITS = re.compile(r"[0-9]{2,12}")
# What ``normalize`` accepts, as one regular expression for the API document: Yunnan's 53, then
# groups that are not all zeros (2, 2, 3, 3 digits), a shorter code optionally padded with zeros
# to a longer length (530100 is 5301).
_G2, _G3 = "(0[1-9]|[1-9][0-9])", "(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})"
CODE_PATTERN = (
    rf"^53(00|0000|0000000|0000000000|{_G2}(00|00000|00000000|{_G2}(000|000000|{_G3}(000|{_G3})?)?)?)?$"
)

# 省直管县 for these funds, named in the notice's address line (镇雄县, 宣威市, 腾冲市).
DIRECTLY_ADMINISTERED = frozenset({"530627", "530381", "530581"})


# No unit of the province counts ten million of anything (people, recipients, a population): the
# bound every such figure in a request carries, which also keeps it in PostgreSQL's integer.
PEOPLE = 10_000_000


class InvalidRegionCode(ValueError):
    pass


def normalize(raw: str, province: str = "53") -> str:
    """Return the canonical code, or raise ``InvalidRegionCode``."""
    code = raw.strip()
    if not _DIGITS.fullmatch(code) or len(code) not in _GROUPS:
        raise InvalidRegionCode(raw)
    # Drop trailing groups that are all zeros, but never the province group itself.
    for i in range(len(_GROUPS) - 1, 0, -1):
        start, end = _GROUPS[i - 1], _GROUPS[i]
        if len(code) == end and set(code[start:end]) == {"0"}:
            code = code[:start]
    if not code.startswith(province):
        raise InvalidRegionCode(raw)
    # An all-zero group left in the middle (e.g. ``530100001``) names no real unit.
    bounds = [b for b in _GROUPS if b <= len(code)]
    if any(set(code[a:b]) == {"0"} for a, b in pairwise(bounds)):
        raise InvalidRegionCode(raw)
    return code


def level_of(code: str) -> Level:
    return LEVEL_BY_LENGTH[len(code)]


def parent_of(code: str) -> str | None:
    """The code minus its last group; None for the province."""
    i = _GROUPS.index(len(code))
    return code[: _GROUPS[i - 1]] if i > 0 else None


def in_scope(scope: str, code: str) -> bool:
    """A caller whose region is ``scope`` sees ``code`` when it is that region or below it."""
    return code.startswith(scope)


def is_valid(raw: str, province: str = "53") -> bool:
    try:
        normalize(raw, province)
    except InvalidRegionCode:
        return False
    return True


def parse_code(raw: str, field: str = "code", province: str = "53") -> str:
    """Normalize a code from a request; 422 ``INVALID_REGION_CODE`` naming the field otherwise."""
    from services.common.errors import invalid_field

    try:
        return normalize(raw, province)
    except InvalidRegionCode:
        zh, en = "区划代码无效（须为本省 2、4、6、9 或 12 位代码）", "Not a region code of this province"
        raise invalid_field(field, "INVALID_REGION_CODE", zh, en) from None
