"""统一社会信用代码 (GB 32100-2015), with the 组织机构代码 (GB 11714-1997) check inside it.

Written here rather than taken from python-stdnum: its ``cn.uscc`` refuses valid codes whose
registration authority is ``Y`` (其他, e.g. bodies registered with an industry authority), which
this programme's ``other_institution`` contractors carry.

Layout of the 18 characters:

    1      registration authority (登记管理部门代码): 1 机构编制, 5 民政, 9 市场监管 (工商), Y 其他, …
    2      organisation category within that authority (机构类别代码)
    3–8    region of the registering office (登记管理机关行政区划码)
    9–17   the organisation code (主体标识码, GB 11714: 8 characters and its own check)
    18     check character over the first 17 (modulus 31)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# GB 32100's 31 characters: the digits and the capitals without I, O, S, V, Z.
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(_ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, ...
# All 18 characters come from that alphabet (the organisation code's letters too).
_SHAPE = re.compile(rf"[{_ALPHABET}]{{2}}[0-9]{{6}}[{_ALPHABET}]{{8}}[0-9X][{_ALPHABET}]")

# GB 11714: digits and capital letters valued A = 10 … Z = 35, weights, modulus 11; 10 is written X.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Registration authorities of GB 32100 (first character). The category (second character) is
# only checked against the alphabet: the categories each authority may use have grown by
# amendment, and refusing a real code is worse here than accepting an unusual category.
AUTHORITIES = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "市场监管 (工商)",
    "A": "中央军委改革和编制办公室",
    "N": "农业",
    "Y": "其他",
}


class InvalidUscc(ValueError):
    pass


@dataclass(frozen=True)
class Uscc:
    value: str

    @property
    def authority(self) -> str:
        """The registration authority's code (first character)."""
        return self.value[0]

    @property
    def category(self) -> str:
        return self.value[1]

    @property
    def region(self) -> str:
        return self.value[2:8]

    @property
    def organisation_code(self) -> str:
        return self.value[8:17]


def organisation_check(body: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body."""
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def uscc_check(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _ALPHABET[(31 - total % 31) % 31]


def compose(kind: str, region: str, organisation_body: str) -> str:
    """A valid code from its parts (registration authority + organisation type, the 6-digit region,
    the 8-character organisation code body): both check characters computed. For demo data and tests."""
    first17 = kind + region + organisation_body + organisation_check(organisation_body)
    return first17 + uscc_check(first17)


def parse(raw: str) -> Uscc:
    """A valid code (spaces around and lower case accepted), or ``InvalidUscc`` saying why."""
    value = raw.strip().upper()
    if not _SHAPE.fullmatch(value):
        raise InvalidUscc("shape")
    if value[0] not in AUTHORITIES:
        raise InvalidUscc("registration authority")
    if organisation_check(value[8:16]) != value[16]:
        raise InvalidUscc("organisation code check character")
    if uscc_check(value[:17]) != value[17]:
        raise InvalidUscc("check character")
    return Uscc(value)
