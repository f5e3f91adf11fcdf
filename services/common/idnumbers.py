"""居民身份证号码 (GB 11643-1999): check character (ISO 7064 MOD 11-2), birth date, masking."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


class InvalidIdNumber(ValueError):
    pass


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: date
    gender: str  # the 17th digit: odd male, even female

    @property
    def masked(self) -> str:
        return mask(self.value)


def check_character(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def compose(region: str, born: date, sequence: int) -> str:
    """A valid number from its parts (6-digit region, birth date, 3-digit sequence): for demo data."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def parse(raw: str) -> IdNumber:
    """A valid 18-character ID number (``x`` accepted for ``X``), or ``InvalidIdNumber``."""
    value = raw.strip().upper()
    if not _SHAPE.fullmatch(value):
        raise InvalidIdNumber("shape")
    if check_character(value[:17]) != value[17]:
        raise InvalidIdNumber("check character")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber("birth date") from None
    if born.year < 1900:
        raise InvalidIdNumber("birth date")
    return IdNumber(value, born, "male" if int(value[16]) % 2 else "female")


def mask(value: str) -> str:
    """``530102********1234``: the region and the last four stay, the birth date does not."""
    return value[:6] + "*" * 8 + value[-4:]


def age_on(born: date, on: date) -> int:
    """Age in full years (周岁) on ``on``: one year more on the birthday itself. Someone born on
    29 February gains the year on 1 March in common years (the day after 28 February)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
