"""`/docs` in a real headless browser (Debian's Chromium): Swagger UI renders the merged document's
tags with every asset from the gateway itself — name resolution for anything but 127.0.0.1 is
switched off, so a page that needed a CDN would stay blank — and the browser's network log shows no
request of the page going anywhere else."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import uvicorn

from tests.conftest import Stack, free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Chromium (README: apt-get install chromium)")
        pytest.skip("Chromium is not installed (README: apt-get install chromium)")
    return CHROMIUM


async def test_swagger_ui_renders_offline(stack: Stack, chromium: str, tmp_path: Path) -> None:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(stack.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    work = tmp_path  # pytest removes it, also when the test fails
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn's Server offers a flag, not an event
            await asyncio.sleep(0.05)
        proc = await asyncio.create_subprocess_exec(
            chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={work / 'profile'}", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--log-net-log={work / 'net.json'}", "--virtual-time-budget=60000", "--dump-dom",
            f"http://127.0.0.1:{port}/docs",
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        dom, _ = await asyncio.wait_for(proc.communicate(), timeout=90)
    finally:
        server.should_exit = True
        await task
    page = dom.decode()
    # Every tag of the merged document is rendered (collapsed: `docExpansion: none`, since expanding
    # 130-odd operations at once is slower than a page should be, and slower than a headless dump).
    document = (await stack.gateway.get("/openapi.json")).json()
    tags = {t for item in document["paths"].values() for op in item.values() for t in op.get("tags", [])}
    assert {"funds", "evaluation", "regions", "ledger", "auth"} <= tags
    assert set(re.findall(r'data-tag="([^"]*)"', page)) == tags
    log = json.loads((work / "net.json").read_text())
    origin = f"http://127.0.0.1:{port}"
    asked = {
        (e["params"]["url"], e["params"].get("initiator", "-"))
        for e in log["events"]
        if "url" in e.get("params", {})
    }
    from_page = {url for url, initiator in asked if initiator == origin}
    assert f"{origin}/docs/assets/swagger-ui-bundle.js" in from_page and f"{origin}/openapi.json" in from_page
    assert all(url.startswith(origin + "/") for url in from_page), from_page
    # Whatever else the log holds is the browser's own housekeeping (initiator "not an origin").
