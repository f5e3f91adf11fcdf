"""Request ids: a caller's well-formed id is kept, anything else is replaced by a fresh one."""

from __future__ import annotations

import re

import pytest

from services.common.requestid import accept_or_new

FRESH = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize("given", ["abc", "A.b_c:d-9", "x" * 64])
def test_a_well_formed_id_is_kept(given: str) -> None:
    assert accept_or_new(given) == given


@pytest.mark.parametrize("given", [None, "", "x" * 65, "has space", "semi;colon", "id\nnext-line", "编号"])
def test_anything_else_gets_a_fresh_id(given: str | None) -> None:
    assert FRESH.fullmatch(accept_or_new(given))


def test_fresh_ids_differ() -> None:
    assert len({accept_or_new(None) for _ in range(10_000)}) == 10_000
