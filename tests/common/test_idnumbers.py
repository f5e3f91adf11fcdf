"""GB 11643 ID numbers: check character, birth date, age in full years, masking."""

from __future__ import annotations

from datetime import date

import pytest

from services.common.idnumbers import InvalidIdNumber, age_on, mask, parse


def test_valid_numbers() -> None:
    p = parse("530102197603150029")
    assert (p.birth_date, p.gender, p.masked) == (date(1976, 3, 15), "female", "530102********0029")
    assert parse("530627200802290058").birth_date == date(2008, 2, 29)
    assert parse("11010519491231002x").value.endswith("X")  # lower-case x accepted


@pytest.mark.parametrize(
    "raw",
    [
        "530102197603150028",  # wrong check character
        "53010219760315002",  # 17 characters
        "5301021976031500290",
        "53010219760315002A",
        "530102197602300023",  # 30 February
        "530102180001010012",  # before 1900
        "",
    ],
)
def test_invalid_numbers(raw: str) -> None:
    with pytest.raises(InvalidIdNumber):
        parse(raw)


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(1976, 3, 15), date(1994, 3, 14), 17),
        (date(1976, 3, 15), date(1994, 3, 15), 18),
        (date(1976, 3, 15), date(1994, 3, 16), 18),
        (date(1976, 3, 15), date(2027, 3, 14), 50),
        (date(1976, 3, 15), date(2027, 3, 15), 51),
        (date(1976, 3, 15), date(2027, 3, 16), 51),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 28), 19),
        (date(2008, 2, 29), date(2028, 2, 29), 20),  # a leap year: the birthday itself
    ],
)
def test_age_in_full_years(born: date, on: date, age: int) -> None:
    assert age_on(born, on) == age


def test_mask() -> None:
    assert mask("530102197603150029") == "530102********0029"
