"""The quota rules as SQL, for set-based answers over thousands of units in one query.

``rules.py`` is the reference; these expressions are built from the same ``RuleParameters`` and a
test sweeps both across every threshold to keep them equal.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Integer, Numeric, case, cast, func, literal, null

from services.staffing_api.quotas.rules import Rounding, RuleParameters


def _divide(n: ColumnElement[int], d: int, rounding: Rounding) -> ColumnElement[int]:
    # SQLAlchemy 2's "/" is true division; "//" is integer division, as in the reference rules.
    if rounding == "ceil":
        return (n + (d - 1)) // d
    if rounding == "floor":
        return n // d
    return cast(func.round(cast(n, Numeric) / d), Integer)


def required_min(level: ColumnElement[str], n: ColumnElement[int], p: RuleParameters) -> ColumnElement[int]:
    c, t, v = p.county, p.township, p.village
    return case(
        (
            level == "county",
            case(
                (n <= c.threshold, literal(c.minimum_at_or_below)),
                else_=_divide(n, c.recipients_per_staff, p.rounding),
            ),
        ),
        (
            level == "township",
            case(
                (n <= t.threshold, literal(t.minimum_at_or_below)),
                else_=_divide(n, t.recipients_per_staff_min, p.rounding),
            ),
        ),
        else_=literal(v.minimum),
    )


def allowed_max(
    level: ColumnElement[str], n: ColumnElement[int], p: RuleParameters
) -> ColumnElement[int | None]:
    t = p.township
    tiers = sorted(p.village.tiers, key=lambda tier: tier.population_from, reverse=True)
    # One tier is a plain ceiling: a CASE with no WHEN is not SQL (the fuzzer's find, a 500).
    village: ColumnElement[int | None] = (
        case(
            *((n >= tier.population_from, literal(tier.maximum)) for tier in tiers[:-1]),
            else_=literal(tiers[-1].maximum),
        )
        if len(tiers) > 1
        else literal(tiers[0].maximum)
    )
    return case(
        (level == "county", null()),
        (
            level == "township",
            case(
                (n <= t.threshold, literal(t.maximum_at_or_below)),
                else_=_divide(n, t.recipients_per_staff_max, p.rounding),
            ),
        ),
        else_=village,
    )
