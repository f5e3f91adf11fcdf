"""The ledger's pure parts: the one hashing function against fixed vectors (computed once with the
spec's formula written out independently: Chinese text, the largest NUMERIC(16,2), nulls, a negative
settlement), chain verification, balances and the settlement arithmetic of acceptance.md."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.penalty_api.ledger import rules

D = Decimal
FIRST = rules.fields(
    contract_id=1, seq=1, entry_type="deduction", amount=D("4275.00"), violation_id=7, appeal_id=None,
    payment_ref=None, period=None, created_at=datetime(2026, 3, 5, 2, 30, 0, 1, tzinfo=UTC),
    created_by="county_official:530102", request_id="req-1", prev_hash=rules.GENESIS,
)  # fmt: skip
VECTORS = [
    "fa8cab24b02f3e3381da08e31dc1f63ee4d43605f26517a28c0f58539ec08561",
    "8801e531f27f7bc206c11fe5959b78f819212943fae1e5d825d3648425664082",
    "9202427bac4dbb8f600dca0b22fb526b46599b1c18dac2f7739552963a0127bf",
]


def _chain() -> list[dict[str, object]]:
    second = rules.fields(
        contract_id=1, seq=2, entry_type="deduction", amount=D("99999999999999.99"), violation_id=8,
        appeal_id=None, payment_ref=None, period=None,
        # the same instant written in Beijing time: hashed in UTC all the same
        created_at=datetime(2026, 3, 5, 10, 30, 0, 1, tzinfo=timezone(timedelta(hours=8))),
        created_by="五华区民政局 李科长", request_id="req-1", prev_hash=VECTORS[0],
    )  # fmt: skip
    third = rules.fields(
        contract_id=1, seq=3, entry_type="settlement", amount=D("-12825.00"), violation_id=None,
        appeal_id=None, payment_ref="付款-2026-03", period="2026-03",
        created_at=datetime(2026, 4, 1, tzinfo=UTC), created_by="county_official:530102", request_id="-",
        prev_hash=VECTORS[1],
    )  # fmt: skip
    return [FIRST, second, third]


def test_fixed_vectors() -> None:
    assert [rules.entry_hash(f) for f in _chain()] == VECTORS
    assert FIRST["created_at"] == "2026-03-05T02:30:00.000001Z" and FIRST["amount"] == "4275.00"
    assert '"violation_id":"7"' in rules.canonical(FIRST) and '"appeal_id":null' in rules.canonical(FIRST)
    assert "五华区" in rules.canonical(_chain()[1])  # UTF-8, not \\u escapes


def test_verification_finds_the_first_break() -> None:
    check = rules.Verification()
    for f, h in zip(_chain(), VECTORS, strict=True):
        check.add(1, int(str(f["seq"])), f, h)
    assert (check.ok, check.contracts_checked, check.entries_checked) == (True, 1, 3)
    tampered = [dict(f) for f in _chain()]
    tampered[1]["amount"] = "1.00"
    check = rules.Verification()
    for f, h in zip(tampered, VECTORS, strict=True):
        check.add(1, int(str(f["seq"])), f, h)
    assert check.first_bad == (1, 2)
    gap = rules.Verification()
    gap.add(2, 1, FIRST | {"contract_id": "2"}, rules.entry_hash(FIRST | {"contract_id": "2"}))
    gap.add(2, 3, FIRST, "f" * 64)
    assert gap.first_bad == (2, 3)


@pytest.mark.parametrize(
    ("balance", "gross", "applied", "repaid", "net", "carried", "entry"),
    [
        (
            (D("12825.00"), D("0"), D("0")),
            D("10000.00"),
            D("10000.00"),
            D("0"),
            D("0.00"),
            D("2825.00"),
            D("10000.00"),
        ),
        (
            (D("12825.00"), D("0"), D("10000.00")),
            D("30000.00"),
            D("2825.00"),
            D("0"),
            D("27175.00"),
            D("0.00"),
            D("2825.00"),
        ),
        (
            (D("4275.00"), D("4275.00"), D("4275.00")),
            D("5000.00"),
            D("0"),
            D("4275.00"),
            D("9275.00"),
            D("0"),
            D("-4275.00"),
        ),
        ((D("0"), D("0"), D("0")), D("5000.00"), D("0"), D("0"), D("5000.00"), D("0"), D("0")),
        ((D("100.00"), D("0"), D("0")), D("100.00"), D("100.00"), D("0"), D("0.00"), D("0.00"), D("100.00")),
    ],
)
def test_settlement_arithmetic(
    balance: tuple[D, D, D], gross: D, applied: D, repaid: D, net: D, carried: D, entry: D
) -> None:
    f = rules.settle(rules.Balance(*balance), gross)
    assert (f.deductions_applied, f.credit_repaid, f.net_amount, f.carried_forward, f.entry_amount) == (
        applied, repaid, net, carried, entry,
    )  # fmt: skip


def test_balance_outstanding_and_credit() -> None:
    assert (
        rules.Balance(D("10"), D("0"), D("4")).outstanding,
        rules.Balance(D("10"), D("0"), D("4")).credit,
    ) == (D("6"), D("0"))
    over = rules.Balance(D("10"), D("10"), D("4"))
    assert (over.net, over.outstanding, over.credit) == (D("-4"), D("0"), D("4"))
