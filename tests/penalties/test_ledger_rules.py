"""The ledger's pure parts: the one hashing function against fixed vectors (computed once with the
spec's formula written out independently: Chinese text, the largest NUMERIC(16,2), nulls, a negative
settlement), chain verification, balances and the settlement arithmetic of acceptance.md."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, DateTime, Numeric, bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.penalty_api.ledger import rules

D = Decimal
_SQL_HASH = text(
    "SELECT ledger_hash(:contract_id, :seq, :entry_type, :amount, :violation_id, :appeal_id, :payment_ref, "
    ":period, :created_at, :created_by, :request_id, :prev_hash)"
).bindparams(
    bindparam("contract_id", type_=BigInteger),
    bindparam("violation_id", type_=BigInteger),
    bindparam("appeal_id", type_=BigInteger),
    bindparam("amount", type_=Numeric(16, 2)),
    bindparam("created_at", type_=DateTime(timezone=True)),
)


def _at(published: dict[str, object]) -> datetime:
    return datetime.strptime(str(published["created_at"]), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


FIRST = rules.fields(
    contract_id=1,
    seq=1,
    entry_type="deduction",
    amount=D("4275.00"),
    violation_id=7,
    appeal_id=None,
    payment_ref=None,
    period=None,
    created_at=datetime(2026, 3, 5, 2, 30, 0, 1, tzinfo=UTC),
    created_by="county_official:530102",
    request_id="req-1",
    prev_hash=rules.GENESIS,
)
VECTORS = [
    "fa8cab24b02f3e3381da08e31dc1f63ee4d43605f26517a28c0f58539ec08561",
    "8801e531f27f7bc206c11fe5959b78f819212943fae1e5d825d3648425664082",
    "9202427bac4dbb8f600dca0b22fb526b46599b1c18dac2f7739552963a0127bf",
]


def _chain() -> list[dict[str, object]]:
    second = rules.fields(
        contract_id=1,
        seq=2,
        entry_type="deduction",
        amount=D("99999999999999.99"),
        violation_id=8,
        appeal_id=None,
        payment_ref=None,
        period=None,
        # the same instant written in Beijing time: hashed in UTC all the same
        created_at=datetime(2026, 3, 5, 10, 30, 0, 1, tzinfo=timezone(timedelta(hours=8))),
        created_by="五华区民政局 李科长",
        request_id="req-1",
        prev_hash=VECTORS[0],
    )
    third = rules.fields(
        contract_id=1,
        seq=3,
        entry_type="settlement",
        amount=D("-12825.00"),
        violation_id=None,
        appeal_id=None,
        payment_ref="付款-2026-03",
        period="2026-03",
        created_at=datetime(2026, 4, 1, tzinfo=UTC),
        created_by="county_official:530102",
        request_id="-",
        prev_hash=VECTORS[1],
    )
    return [FIRST, second, third]


def test_fixed_vectors() -> None:
    assert [rules.entry_hash(f) for f in _chain()] == VECTORS
    assert FIRST["created_at"] == "2026-03-05T02:30:00.000001Z" and FIRST["amount"] == "4275.00"
    assert '"violation_id":"7"' in rules.canonical(FIRST) and '"appeal_id":null' in rules.canonical(FIRST)
    assert "五华区" in rules.canonical(_chain()[1])  # UTF-8, not \\u escapes


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
        applied,
        repaid,
        net,
        carried,
        entry,
    )


def test_balance_outstanding_and_credit() -> None:
    assert (
        rules.Balance(D("10"), D("0"), D("4")).outstanding,
        rules.Balance(D("10"), D("0"), D("4")).credit,
    ) == (D("6"), D("0"))
    over = rules.Balance(D("10"), D("10"), D("4"))
    assert (over.net, over.outstanding, over.credit) == (D("-4"), D("0"), D("4"))


async def test_the_database_function_gives_the_same_hashes(engine: AsyncEngine) -> None:
    """ledger_hash (migration 0014), which writes and verifies, against the same fixed vectors."""
    async with engine.connect() as conn:
        for published, expected in zip(_chain(), VECTORS, strict=True):
            args = {**published, "amount": Decimal(str(published["amount"])), "created_at": _at(published)}
            args.update(
                {
                    k: int(str(args[k])) if args[k] is not None else None
                    for k in ("contract_id", "violation_id", "appeal_id")
                }
            )
            got = (await conn.execute(_SQL_HASH, args)).scalar()
            assert got == expected
        # Text a JSON encoder must escape, and text it must not: the two implementations agree.
        for tricky in ('引号"反斜杠\\换行\n制表\t', "\x01\x1f\x7f", "emoji 🧾 and é", "a/b</script>"):
            published = {**FIRST, "created_by": tricky, "request_id": tricky[::-1], "payment_ref": None}
            args = {
                **published,
                "amount": Decimal("4275.00"),
                "created_at": _at(FIRST),
                "contract_id": 1,
                "violation_id": 7,
            }
            assert (await conn.execute(_SQL_HASH, args)).scalar() == rules.entry_hash(published), tricky


@given(
    text=st.text(st.characters(codec="utf-8"), max_size=40),
    amount=st.decimals(min_value=-(10**14) + 1, max_value=10**14 - 1, places=2, allow_nan=False),
    seq=st.integers(1, 2**31 - 1),
    ref=st.one_of(st.none(), st.text(max_size=20)),
)
@hypothesis_settings(max_examples=300, deadline=None, database=None, derandomize=True)
def test_canonical_is_the_specs_json(text: str, amount: Decimal, seq: int, ref: str | None) -> None:
    """The key-by-key encoder equals json.dumps with sort_keys, compact separators and UTF-8 for any
    text: quotes, backslashes, control characters, Chinese, emoji."""
    published = {
        **FIRST,
        "created_by": text,
        "request_id": text[::-1],
        "amount": f"{amount:.2f}",
        "seq": seq,
        "payment_ref": ref,
        "period": None if ref is None else text[:7],
    }
    spec = json.dumps(
        {k: published[k] for k in rules.HASHED}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert rules.canonical(published) == spec
