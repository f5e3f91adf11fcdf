"""Load generation: wrk when it is installed, else a small asyncio HTTP/1.1 keep-alive client."""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # connect, read, write, timeout
    non_2xx: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "python-asyncio"


# --- wrk ---------------------------------------------------------------------------------------

_WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format("JZ %d %f %f %f %d %d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def _wrk(url: str, connections: int, seconds: float, script: str) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script + _WRK_REPORT)
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", fh.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    Path(fh.name).unlink()
    m = re.search(r"JZ (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+) (\d+)", out)
    if m is None:
        raise RuntimeError(out)
    return Result(int(m[1]), float(m[2]), float(m[3]), float(m[4]), int(m[5]), int(m[6]))


def wrk_get_script(token: str) -> str:
    return f'wrk.method = "GET"\nwrk.headers["Authorization"] = "Bearer {token}"\n'


def wrk_post_script(
    path: str, token: str, townships: list[str], suffix_base: int, key_prefix: str | None
) -> str:
    """Each request creates a new village (unique code), under a unique Idempotency-Key if a prefix is given."""
    key = f'["Idempotency-Key"] = "{key_prefix}-" .. n' if key_prefix else ""
    codes = ",".join(f'"{t}"' for t in townships)
    return f"""
local townships = {{{codes}}}
local counter = 0
local thread_count = 0
function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
end
request = function()
  counter = counter + 1
  local n = counter * 2 + (tid or 0)  -- wrk runs at most two threads
  local t = townships[(n % #townships) + 1]
  local code = t .. string.format("%03d", {suffix_base} + math.floor(n / #townships))
  local body = '{{"code":"' .. code .. '","name":"bench"}}'
  return wrk.format("POST", "{path}", {{["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer {token}", {key}}}, body)
end
"""


# --- Python fallback ---------------------------------------------------------------------------


async def _py(url: str, connections: int, seconds: float, make_request: object) -> Result:
    parts = urlsplit(url)
    latencies: list[float] = []
    errors = non_2xx = 0
    stop_at = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def worker() -> None:
        nonlocal errors, non_2xx
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        while time.perf_counter() < stop_at:
            request: bytes = make_request(next(counter))  # type: ignore[operator]
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head)[1])  # type: ignore[index]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if not head.startswith(b"HTTP/1.1 2"):
                non_2xx += 1
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    qs = statistics.quantiles(latencies, n=100)
    return Result(len(latencies), elapsed, qs[49] * 1000, qs[98] * 1000, errors, non_2xx)


def run_get(url: str, token: str, connections: int, seconds: float) -> Result:
    if generator() == "wrk":
        return _wrk(url, connections, seconds, wrk_get_script(token))
    parts = urlsplit(url)
    raw = (
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    return asyncio.run(_py(url, connections, seconds, lambda _n: raw))


def run_post(
    url: str,
    token: str,
    connections: int,
    seconds: float,
    townships: list[str],
    suffix_base: int,
    key_prefix: str | None,
) -> Result:
    parts = urlsplit(url)
    if generator() == "wrk":
        return _wrk(
            url, connections, seconds, wrk_post_script(parts.path, token, townships, suffix_base, key_prefix)
        )

    def make(n: int) -> bytes:
        t = townships[n % len(townships)]
        body = f'{{"code":"{t}{suffix_base + n // len(townships):03d}","name":"bench"}}'.encode()
        return (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\n"
            + (f"Idempotency-Key: {key_prefix}-{n}\r\n" if key_prefix else "")
            + f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    return asyncio.run(_py(url, connections, seconds, make))


def run_post_bodies(url: str, token: str, connections: int, seconds: float, bodies: list[bytes]) -> Result:
    """POST ``bodies`` round-robin (each connection its own turn through them)."""
    parts = urlsplit(url)
    if generator() == "wrk":
        quoted = ",".join("[[" + b.decode() + "]]" for b in bodies)
        script = (
            f"local bodies = {{{quoted}}}\nlocal n = 0\nrequest = function()\n  n = n + 1\n"
            f'  return wrk.format("POST", "{parts.path}", {{["Content-Type"] = "application/json", '
            f'["Authorization"] = "Bearer {token}"}}, bodies[(n % #bodies) + 1])\nend\n'
        )
        return _wrk(url, connections, seconds, script)

    def make(n: int) -> bytes:
        body = bodies[n % len(bodies)]
        return (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    return asyncio.run(_py(url, connections, seconds, make))
