"""GB 32100 unified social credit codes and the GB 11714 organisation code inside them, on fixed
vectors (the valid ones cross-checked once against python-stdnum where it accepts them at all)."""

from __future__ import annotations

import pytest

from services.common.uscc import InvalidUscc, organisation_check, parse, uscc_check


@pytest.mark.parametrize(
    ("code", "authority", "organisation_code"),
    [
        ("91350100M000100Y43", "9", "M000100Y4"),  # the example printed with the standard's rules
        ("91530102MA6K00014A", "9", "MA6K00014"),  # an enterprise (市场监管)
        ("52530102MJ0123456E", "5", "MJ0123456"),  # a 民办非企业单位 (民政)
        ("12530102431012345D", "1", "431012345"),  # a 事业单位 (机构编制)
        ("Y1530102MB1P2Q3R72", "Y", "MB1P2Q3R7"),  # 其他: python-stdnum refuses these
        ("5353000050987654XG", "5", "50987654X"),  # organisation check 10, written X
        ("92530627L12345674K", "9", "L12345674"),  # 个体工商户
    ],
)
def test_valid_codes(code: str, authority: str, organisation_code: str) -> None:
    parsed = parse(code)
    assert (parsed.value, parsed.authority, parsed.organisation_code) == (code, authority, organisation_code)
    assert parsed.region == code[2:8]


def test_spaces_and_lower_case_are_accepted() -> None:
    assert parse(" 91530102ma6k00014a ").value == "91530102MA6K00014A"


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("91530102MA6K00014B", "check character"),  # last character off by one
        ("91530102MA6K00015D", "organisation code check character"),  # final check right, GB 11714 wrong
        ("B1530102MA6K000148", "registration authority"),  # B is no authority (both checks right)
        ("91530102MA6K0001", "shape"),
        ("91530102MA6K00014A0", "shape"),
        ("91530102MI6K00014A", "shape"),  # I is not in GB 32100's alphabet
        ("9153010OMA6K00014A", "shape"),  # a letter in the region
        ("91530102MA6K0001ZA", "shape"),  # Z is never an organisation check
        ("", "shape"),
    ],
)
def test_invalid_codes(code: str, why: str) -> None:
    with pytest.raises(InvalidUscc, match=why):
        parse(code)


@pytest.mark.parametrize(
    ("body", "check"),
    [("MA6K0001", "4"), ("50987654", "X"), ("77777777", "5"), ("00000000", "0"), ("D2143569", "X")],
)
def test_organisation_check(body: str, check: str) -> None:
    assert organisation_check(body) == check


def test_uscc_check_of_a_known_code() -> None:
    assert uscc_check("91350100M000100Y4") == "3"
