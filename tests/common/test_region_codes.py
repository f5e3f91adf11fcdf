"""Region-code normalization (README, *Region codes*)."""

from __future__ import annotations

import pytest

from services.common.regions import InvalidRegionCode, in_scope, level_of, normalize, parent_of


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("53", "53"),
        ("530000", "53"),
        ("5301", "5301"),
        ("530100", "5301"),
        ("530102", "530102"),
        ("530102000000", "530102"),
        ("530102001", "530102001"),
        ("530102001000", "530102001"),
        ("530102001001", "530102001001"),
        (" 530102 ", "530102"),
    ],
)
def test_normalizes_padded_forms(raw: str, canonical: str) -> None:
    assert normalize(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    ["", "5", "530", "53010", "5301020", "5301020011", "5301020010011", "54", "110101", "53a1", "530100001"],
)
def test_rejects(raw: str) -> None:
    with pytest.raises(InvalidRegionCode):
        normalize(raw)


def test_levels_parents_scope() -> None:
    assert [level_of(c) for c in ("53", "5301", "530102", "530102001", "530102001001")] == [
        "province",
        "prefecture",
        "county",
        "township",
        "village",
    ]
    assert parent_of("530102001001") == "530102001"
    assert parent_of("530102") == "5301"
    assert parent_of("53") is None
    assert in_scope("5301", "530102001")
    assert not in_scope("530102", "5301")  # an ancestor is outside scope
    assert not in_scope("530102", "530103")
