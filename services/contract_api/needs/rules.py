"""Purchase needs (购买需求, notice §三(四)): 乡镇人民政府（街道办事处）可以根据实际需要，向县级民政部门
提出购买民政服务的需求 — raised by a township (or the county), accepted or returned by the county.

Pure: the lifecycle as one table, and the checks on a need's lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from services.common.errors import FieldError, invalid
from services.common.transitions import Step

AUTHORS = frozenset({"township_official", "county_official"})
COUNTY = frozenset({"county_official"})

# (state, action) → next state and who may act. ``submit`` is further limited to the need's author.
TRANSITIONS: Mapping[tuple[str, str], Step] = {
    ("draft", "submit"): Step("submitted", AUTHORS),
    ("returned", "submit"): Step("submitted", AUTHORS),
    ("submitted", "accept"): Step("accepted", COUNTY),
    ("submitted", "return"): Step("returned", COUNTY),
}


def check_items(codes: Sequence[str], purchasable: Mapping[str, bool]) -> None:
    """Every line names a catalog item that may be bought (§三(三)); all failing lines are listed."""
    errors = [
        FieldError(
            f"items[{i}].catalog_code",
            "ITEM_NOT_PURCHASABLE",
            "该事项不在可购买目录内（未知或属于负面清单）",
            "Not a purchasable catalog item (unknown, or on the negative list)",
        )
        for i, code in enumerate(codes)
        if not purchasable.get(code, False)
    ]
    if errors:
        raise invalid(
            "ITEM_NOT_PURCHASABLE",
            "需求含有不可购买的事项",
            "The need names items that may not be bought",
            errors,
        )


def total(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, Decimal("0.00"))
