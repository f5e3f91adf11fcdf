"""Region-code normalization (README, *Region codes*)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.regions import (
    CODE_PATTERN,
    InvalidRegionCode,
    in_scope,
    is_valid,
    level_of,
    normalize,
    parent_of,
)


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


@given(st.text(alphabet="0123456789", min_size=2, max_size=12).map(lambda tail: ("53" + tail)[:12]))
def test_the_documented_pattern_is_exactly_what_the_parser_accepts(code: str) -> None:
    """The API document's region-code pattern (api_shapes) and ``normalize`` agree on every string of
    digits: a client that follows the document is never refused, and nothing else gets through."""
    assert (re.fullmatch(CODE_PATTERN, code) is not None) == is_valid(code)


@pytest.mark.parametrize(
    "code", ["53", "5301", "530100", "530102000000", "530102001001", "5300", "530100001"]
)
def test_the_pattern_on_the_edges(code: str) -> None:
    assert (re.fullmatch(CODE_PATTERN, code) is not None) == is_valid(code)
