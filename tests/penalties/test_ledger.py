"""The ledger as the database keeps it: the services' role may not rewrite it, triggers refuse even
the owner, a row edited behind everyone's back is named by verify, concurrent confirmations chain
1..n without a gap or a fork, and every published entry recomputes outside the system."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.conftest import Stack, business_day
from tests.penalties.conftest import TOWNSHIP, Case


def _recompute(entry: dict[str, object]) -> str:
    """An auditor's check, from the published fields alone (penalties.md, written out again)."""
    fields = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((str(fields["prev_hash"]) + canonical).encode("utf-8")).hexdigest()


async def test_published_entries_recompute_and_verify(case: Case) -> None:
    for m in ("1", "2.37", "3"):
        await case.confirmed(m)
    entries = await case.entries()
    assert [e["seq"] for e in entries] == [1, 2, 3] and entries[0]["prev_hash"] == "0" * 64
    assert all(_recompute(e) == e["hash"] for e in entries)
    assert [e["prev_hash"] for e in entries[1:]] == [e["hash"] for e in entries[:-1]]
    auditor = case.tokens.headers("auditor", "53")
    one = await case.penalty.get(f"/api/v1/ledger/{case.contract}/verify", headers=auditor)
    assert one.json() == {"ok": True, "contracts_checked": 1, "entries_checked": 3, "first_bad": None}
    everything = await case.penalty.get("/api/v1/ledger/verify", headers=auditor)
    assert everything.json()["ok"] is True and everything.json()["entries_checked"] == 3
    assert (await case.penalty.get("/api/v1/ledger/verify", headers=case.county())).status_code == 403
    page = await case.penalty.get(
        f"/api/v1/ledger/{case.contract}/entries", params={"limit": 2}, headers=case.county()
    )
    assert page.json()["next_after_seq"] == 2
    rest = await case.penalty.get(
        f"/api/v1/ledger/{case.contract}/entries", params={"after_seq": 2}, headers=case.county()
    )
    assert [e["seq"] for e in rest.json()["items"]] == [3] and rest.json()["next_after_seq"] is None


async def test_the_database_refuses_rewrites(case: Case, engine: AsyncEngine, db_url: str) -> None:
    await case.confirmed()
    assert (await case.settle("1000.00", "pay-1")).status_code == 201  # a settlements row too
    # The owner (migrations' user): the ENABLE ALWAYS triggers refuse, replica mode or not.
    for statement in (
        "UPDATE ledger_entries SET amount = 1",
        "DELETE FROM ledger_entries",
        "TRUNCATE ledger_entries",
        "UPDATE settlements SET net_amount = 0",
        "DELETE FROM settlements",
        "TRUNCATE settlements",
    ):
        for replica in (False, True):
            async with engine.connect() as conn:
                if replica:
                    await conn.execute(text("SET session_replication_role = replica"))
                with pytest.raises(DBAPIError, match="append-only"):
                    await conn.execute(text(statement))
                await conn.rollback()
    # The services' role: no such privilege at all.
    app = create_async_engine(db_url, connect_args={"server_settings": {"role": "jiuzhu_app"}})
    try:
        for statement in (
            "UPDATE ledger_entries SET amount = 1",
            "DELETE FROM ledger_entries",
            "TRUNCATE ledger_entries",
            "UPDATE settlements SET net_amount = 0",
            "DELETE FROM settlements",
            "TRUNCATE settlements",
        ):
            async with app.connect() as conn:
                assert (await conn.execute(text("SELECT current_user"))).scalar() == "jiuzhu_app"
                with pytest.raises(DBAPIError, match="permission denied"):
                    await conn.execute(text(statement))
    finally:
        await app.dispose()
    assert len(await case.entries()) == 2


async def test_a_service_runs_as_the_app_role(stack: Stack) -> None:
    engine = stack.direct["penalty"]._transport.app.state.db.engine  # type: ignore[attr-defined]
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT current_user"))).scalar() == "jiuzhu_app"


async def test_an_edit_behind_the_applications_back_is_found(case: Case, engine: AsyncEngine) -> None:
    for _ in range(3):
        await case.confirmed()
    async with engine.begin() as conn:  # a superuser disables the trigger and edits seq 2
        await conn.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_no_update_delete"))
        await conn.execute(
            text("UPDATE ledger_entries SET amount = 1.00 WHERE contract_id = :c AND seq = 2"),
            {"c": case.contract},
        )
        await conn.execute(
            text("ALTER TABLE ledger_entries ENABLE ALWAYS TRIGGER ledger_entries_no_update_delete")
        )
    r = await case.penalty.get(
        f"/api/v1/ledger/{case.contract}/verify", headers=case.tokens.headers("auditor", "53")
    )
    assert r.json()["ok"] is False and r.json()["first_bad"] == {"contract_id": case.contract, "seq": 2}
    region = await case.penalty.get("/api/v1/ledger/verify", params={"region": "530102"},
                                    headers=case.tokens.headers("province_admin", "53"))  # fmt: skip
    assert region.json()["first_bad"] == {"contract_id": case.contract, "seq": 2}


async def test_32_concurrent_confirmations_chain_without_a_gap(case: Case) -> None:
    reported = [(await case.violation(who=TOWNSHIP)).json()["id"] for _ in range(32)]
    answers = await asyncio.gather(
        *(
            case.penalty.post(
                f"/api/v1/violations/{v}/confirm", json={"multiplier": "1"}, headers=case.county()
            )
            for v in reported
        )
    )
    assert [r.status_code for r in answers] == [200] * 32
    entries = await case.entries()
    assert [e["seq"] for e in entries] == list(range(1, 33))
    assert sorted(r.json()["ledger_seq"] for r in answers) == list(range(1, 33))
    assert all(_recompute(e) == e["hash"] for e in entries)
    assert (await case.balance())["deducted"] == f"{2850 * 32}.00"
    r = await case.penalty.get(
        f"/api/v1/ledger/{case.contract}/verify", headers=case.tokens.headers("auditor", "53")
    )
    assert r.json()["ok"] is True


async def test_32_concurrent_confirmations_at_once_chain_without_a_gap(case: Case) -> None:
    """Reported and confirmed in one request each (one statement, committing on its own), all at once
    on one contract: the first makes the head, the rest take turns on it."""
    answers = await asyncio.gather(*(case.violation(multiplier="1") for _ in range(32)))
    assert [r.status_code for r in answers] == [201] * 32
    entries = await case.entries()
    assert [e["seq"] for e in entries] == list(range(1, 33))
    assert sorted(r.json()["ledger_seq"] for r in answers) == list(range(1, 33))
    assert {e["violation_id"] for e in entries} == {str(r.json()["id"]) for r in answers}
    assert all(_recompute(e) == e["hash"] for e in entries)
    r = await case.penalty.get(
        f"/api/v1/ledger/{case.contract}/verify", headers=case.tokens.headers("auditor", "53")
    )
    assert r.json()["ok"] is True


async def test_32_racing_confirmations_of_one_violation_make_one_entry(case: Case) -> None:
    vid = (await case.violation(who=TOWNSHIP)).json()["id"]
    answers = await asyncio.gather(
        *(
            case.penalty.post(
                f"/api/v1/violations/{vid}/confirm", json={"multiplier": "1"}, headers=case.county()
            )
            for _ in range(32)
        )
    )
    assert sorted(r.status_code for r in answers) == [200] + [409] * 31
    assert len(await case.entries()) == 1


async def test_one_idempotency_key_makes_one_entry(case: Case) -> None:
    vid = (await case.violation(who=TOWNSHIP)).json()["id"]
    url = f"/api/v1/violations/{vid}/confirm"
    headers = {**case.county(), "Idempotency-Key": "confirm-once"}
    answers = await asyncio.gather(
        *(case.penalty.post(url, json={"multiplier": "1"}, headers=headers) for _ in range(32))
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(200) >= 1 and set(statuses) <= {200, 409}
    assert len(await case.entries()) == 1
    other = await case.penalty.post(url, json={"multiplier": "2"}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_who_reads_the_ledger(case: Case) -> None:
    await case.confirmed()
    t = case.tokens
    url = f"/api/v1/ledger/{case.contract}/balance"
    for headers, status in (
        (case.county(), 200),
        (t.headers("auditor", "53"), 200),
        (t.headers("service", "53", scope="penalties:read"), 200),
        (t.headers("service", "53", scope="staffing:read"), 403),
        (case.world.h, 200),
        (t.headers("contractor", "530102", org_id="999999"), 404),
        (t.headers("county_official", "530103"), 404),
        (t.headers("worker", "530102001001", sub="1"), 403),
        ({}, 401),
    ):
        assert (await case.penalty.get(url, headers=headers)).status_code == status, headers
    summary = await case.penalty.get(
        "/api/v1/deduction-summary", params={"year": business_day().year}, headers=case.county()
    )
    (item,) = summary.json()["items"]
    assert (item["contract_id"], item["violations"], item["deducted"], item["outstanding"]) == (
        case.contract, {"falsification": 1}, "4275.00", "4275.00",
    )  # fmt: skip
    mine = await case.penalty.get(
        "/api/v1/deduction-summary", params={"year": business_day().year}, headers=case.world.h
    )
    assert len(mine.json()["items"]) == 1
    theirs = await case.penalty.get("/api/v1/deduction-summary", params={"year": business_day().year},
                                    headers=t.headers("contractor", "530102", org_id="999999"))  # fmt: skip
    assert theirs.json()["items"] == []
