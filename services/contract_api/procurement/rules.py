"""Comprehensive scoring of bids (综合评分法): notice §三(四) "不得简单以价低者得", 财政部令第87号
第55条 (price weight of service projects at least 10 %), 第57条 and 第68条 (ties), 第60条 (abnormally
low prices); 财库〔2014〕214号 第24条 (price weight at most 30 % for services).

Pure functions: no I/O. Arithmetic is exact — scores are kept as fractions until the end, then each
shown figure is rounded half-up to the fen (2 decimals) once, and the ranking uses the rounded total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from services.common.errors import invalid

PRICE_WEIGHT_MIN = Decimal("0.10")  # 87号令 第55条
PRICE_WEIGHT_MAX = Decimal("0.30")  # 财库〔2014〕214号 第24条, applied to every method here
ABNORMAL_SHARE_OF_MEAN = Fraction(1, 2)  # a policy parameter: 87号令 第60条 names no number
LOWEST_PRICE_METHODS = ("lowest_price", "inquiry")
CENT = Decimal("0.01")


def check_method(method: str) -> None:
    if method in LOWEST_PRICE_METHODS:
        raise invalid(
            "LOWEST_PRICE_NOT_ALLOWED",
            "社会救助服务不得简单以价低者得，须采用综合评分",
            "Social-assistance services are never bought on lowest price alone; use comprehensive scoring",
        )


def check_weights(price_weight: Decimal, criteria: Mapping[str, Decimal]) -> None:
    """Price weight within [0.10, 0.30] (both included); price and criteria weights sum to 1."""
    if not PRICE_WEIGHT_MIN <= price_weight <= PRICE_WEIGHT_MAX:
        raise invalid(
            "PRICE_WEIGHT_OUT_OF_RANGE",
            "价格分权重须在 10% 至 30% 之间",
            "The price weight must lie between 0.10 and 0.30",
        )
    if not criteria or any(w <= 0 for w in criteria.values()):
        raise invalid("CRITERIA_REQUIRED", "须有权重为正的评审因素", "Give criteria with positive weights")
    if price_weight + sum(criteria.values(), Decimal(0)) != 1:
        raise invalid(
            "WEIGHTS_NOT_ONE", "价格与各评审因素权重之和须为 1", "Price and criteria weights must sum to 1"
        )


@dataclass(frozen=True)
class Bid:
    id: int
    price: Decimal
    # One sheet per evaluator: criterion code → score 0–100.
    sheets: Sequence[Mapping[str, Decimal]]


@dataclass(frozen=True)
class Ranked:
    bid_id: int
    price: Decimal
    price_score: Decimal
    quality_score: Decimal
    total: Decimal
    rank: int
    abnormally_low: bool


def half_up(value: Fraction) -> Decimal:
    """A non-negative exact value rounded half-up to the fen (0.005 → 0.01)."""
    whole, rest = divmod(value.numerator * 100, value.denominator)
    if 2 * rest >= value.denominator:
        whole += 1
    return (Decimal(whole) / 100).quantize(CENT)


def criterion_means(bid: Bid, criteria: Sequence[str]) -> dict[str, Fraction]:
    """Each criterion's score: the mean over the evaluators' sheets (exact)."""
    n = len(bid.sheets)
    return {c: sum((Fraction(s[c]) for s in bid.sheets), Fraction(0)) / n for c in criteria}


def evaluate(bids: Sequence[Bid], price_weight: Decimal, criteria: Mapping[str, Decimal]) -> list[Ranked]:
    """Rank the valid bids: total descending, then price ascending; equal total and price share a
    rank (the award then names the winner among them). Every bid needs at least one sheet."""
    if not bids:
        return []
    if any(b.price <= 0 or not b.sheets for b in bids):
        raise ValueError("every bid needs a positive price and at least one evaluator's sheet")
    lowest = min(Fraction(b.price) for b in bids)
    mean_price = sum((Fraction(b.price) for b in bids), Fraction(0)) / len(bids)
    scored: list[tuple[Bid, Decimal, Decimal, Decimal, bool]] = []
    for bid in bids:
        exact_price = lowest / Fraction(bid.price) * Fraction(price_weight) * 100
        means = criterion_means(bid, list(criteria))
        exact_quality = sum((Fraction(w) * means[c] for c, w in criteria.items()), Fraction(0))
        abnormal = Fraction(bid.price) < mean_price * ABNORMAL_SHARE_OF_MEAN
        scored.append(
            (
                bid,
                half_up(exact_price),
                half_up(exact_quality),
                half_up(exact_price + exact_quality),
                abnormal,
            )
        )
    scored.sort(key=lambda s: (-s[3], s[0].price, s[0].id))
    out: list[Ranked] = []
    for i, (bid, price_score, quality, total, abnormal) in enumerate(scored):
        prev = out[-1] if out else None
        tied = prev is not None and (prev.total, prev.price) == (total, bid.price)
        rank = prev.rank if tied and prev is not None else i + 1
        out.append(Ranked(bid.id, bid.price, price_score, quality, total, rank, abnormal))
    return out
