"""Several replicas per service behind the gateway: round-robin, a failed replica passed over for a
while and then tried again, reads never lost to a replica that is down, and the compose file and
`jiuzhu up` wiring the same lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.types import Receive, Scope, Send

from gateway.replicas import Replicas, parse
from services.common.settings import Settings
from tests.conftest import Tokens
from tests.gateway.test_frontdoor import Ticks
from tests.gateway.test_proxy import gateway_with


def test_turns_go_round_and_a_failed_replica_waits_out_its_ejection() -> None:
    clock = Ticks()
    pool = Replicas(["a", "b", "c"], eject_seconds=5, clock=clock)
    assert [pool.order()[0] for _ in range(4)] == ["a", "b", "c", "a"]
    pool.failed("b")
    # b is passed over: its turn goes to the others, and it is tried last.
    assert [pool.order() for _ in range(3)] == [["c", "a", "b"], ["c", "a", "b"], ["a", "c", "b"]]
    clock.t += 4.999
    assert pool.ejected() == ["b"]
    clock.t += 0.002  # 5 s later it takes its turn again
    assert pool.ejected() == [] and pool.order() == ["b", "c", "a"]
    pool.failed("a")
    pool.answered("a")  # a request that reached it brings it back at once
    assert pool.ejected() == []


def test_a_service_whose_every_replica_failed_is_still_tried() -> None:
    pool = Replicas(["a", "b"], eject_seconds=60, clock=Ticks())
    pool.failed("a")
    pool.failed("b")
    assert sorted(pool.order()) == ["a", "b"]


@pytest.mark.parametrize(
    ("setting", "bases"),
    [("http://a:1", ["http://a:1"]), ("http://a:1/, http://b:2", ["http://a:1", "http://b:2"])],
)
def test_the_setting_lists_addresses(setting: str, bases: list[str]) -> None:
    assert parse(setting) == bases
    with pytest.raises(ValueError, match="at least one"):
        parse(" , ")


def replica(name: str) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps({"replica": name}).encode()})

    return app


class Down(httpx.AsyncBaseTransport):
    """A replica that is not there: every connection refused."""

    def __init__(self) -> None:
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        raise httpx.ConnectError("connection refused", request=request)


async def test_reads_never_fail_while_one_replica_is_down(
    settings: Settings, db_url: str, tokens: Tokens
) -> None:
    down = Down()
    two = settings.model_copy(
        update={
            "upstream_staffing": "http://staffing-a.test,http://staffing-b.test",
            "upstream_eject_seconds": 60,
        }
    )
    mounts = {"http://staffing-a.test": httpx.ASGITransport(app=replica("a")), "http://staffing-b.test": down}
    async with gateway_with(two, db_url, mounts) as client:
        answers = [await client.get("/api/v1/regions/53", headers=tokens.headers()) for _ in range(10)]
        assert [r.status_code for r in answers] == [200] * 10
        assert {r.json()["replica"] for r in answers} == {"a"}
        assert down.calls == 1  # tried once in its turn, then passed over for the ejection period
        # Writes are never sent twice, but after the ejection they no longer land on the dead one.
        writes = [await client.post("/api/v1/regions", json={}, headers=tokens.headers()) for _ in range(4)]
        assert [w.status_code for w in writes] == [200] * 4 and down.calls == 1


async def test_both_replicas_take_turns(settings: Settings, db_url: str, tokens: Tokens) -> None:
    two = settings.model_copy(update={"upstream_staffing": "http://staffing-a.test,http://staffing-b.test"})
    mounts = {f"http://staffing-{n}.test": httpx.ASGITransport(app=replica(n)) for n in "ab"}
    async with gateway_with(two, db_url, mounts) as client:
        seen = [
            (await client.get("/api/v1/regions/53", headers=tokens.headers())).json()["replica"]
            for _ in range(6)
        ]
    assert seen == ["a", "b"] * 3


def test_compose_runs_each_service_as_the_replicas_its_upstream_lists() -> None:
    compose = yaml.safe_load((Path(__file__).parents[2] / "docker" / "compose.yaml").read_text())
    services = compose["services"]
    env = services["gateway"]["environment"]
    for name in ("staffing", "contract", "penalty"):
        hosts = [
            b.removeprefix("http://").split(":")[0] for b in parse(env[f"JIUZHU_UPSTREAM_{name.upper()}"])
        ]
        assert len(hosts) >= 2, name
        for host in hosts:
            assert (
                f"{name}_api" in " ".join(services[host]["command"])
                and services[host]["restart"] == "unless-stopped"
            )
