"""Rules about regions and their figures: pure functions, no I/O."""

from __future__ import annotations

from services.common.errors import DomainError, FieldError, invalid
from services.common.regions import Level

KINDS: dict[Level, frozenset[str]] = {
    "province": frozenset({"province"}),
    "prefecture": frozenset({"city", "autonomous_prefecture"}),
    "county": frozenset({"district", "county_city", "county", "autonomous_county"}),
    "township": frozenset({"town", "township", "subdistrict", "other"}),
    "village": frozenset({"village", "community"}),
}
# Figures are kept where they are counted; a prefecture's or the province's are sums (staffing.md).
STATS_LEVELS: frozenset[Level] = frozenset({"county", "township", "village"})
# 编制 belongs to a county's social-assistance section or a township's civil-affairs office.
ESTABLISHMENT_LEVELS: frozenset[Level] = frozenset({"county", "township"})


def default_kind(code: str, level: Level) -> str:
    """The kind when none is given. For villages the statistical code says it: the 10th digit
    (the urban-rural classification's first digit) is 2 for 村委会, 0 or 1 for 居委会."""
    if level == "village":
        return "village" if code[9] == "2" else "community"
    return {"province": "province", "prefecture": "city", "county": "county", "township": "town"}[level]


def check_kind(level: Level, kind: str) -> None:
    if kind not in KINDS[level]:
        allowed = ", ".join(sorted(KINDS[level]))
        raise invalid(
            "INVALID_KIND",
            f"该层级的类型只能是：{allowed}",
            f"kind must be one of {allowed} at this level",
            [FieldError("kind", "INVALID_KIND", f"类型须为 {allowed}", f"must be one of {allowed}")],
        )


def stats_level_error() -> DomainError:
    return invalid(
        "STATS_LEVEL_NOT_ALLOWED",
        "只有县、乡镇（街道）和村（社区）可以填报统计数，州市和全省为汇总数",
        "Figures are kept for counties, townships and villages only; higher levels are sums",
    )


def check_stats_level(level: Level) -> None:
    if level not in STATS_LEVELS:
        raise stats_level_error()


def check_establishment_level(level: Level) -> None:
    if level not in ESTABLISHMENT_LEVELS:
        raise invalid(
            "ESTABLISHMENT_LEVEL_NOT_ALLOWED",
            "编制只能登记在县级民政部门或乡镇（街道）",
            "Establishment is recorded for a county or a township only",
        )


def check_some_figure(dibao: int | None, tekun: int | None, population: int | None) -> None:
    if dibao is None and tekun is None and population is None:
        raise invalid(
            "NO_FIGURES",
            "至少填写低保对象数、特困人员数、常住人口中的一项",
            "Give at least one of dibao_recipients, tekun_recipients, population",
        )
