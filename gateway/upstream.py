"""How the proxy reaches a replica: one request out, its answer's status, headers and body back.

Two implementations, one contract. ``AiohttpUpstream`` is the deployment's: aiohttp's keep-alive pool,
called directly. Going through httpx's request and response objects on top of it (httpx-aiohttp) cost
~15 % of the gateway's CPU per proxied write: httpx parsed every URL and header list, and aiohttp then
parsed them again (bench/README.md). ``HttpxUpstream`` serves the in-process test stack, whose
services are mounted as ``httpx.ASGITransport``s.

Errors are httpx's transport errors in both, so the proxy has one vocabulary: a timeout is an
``httpx.TimeoutException``, anything else that kept the answer from arriving (refused, reset, closed,
cut short) another ``httpx.TransportError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Protocol

import aiohttp
import httpx

Headers = list[tuple[bytes, bytes]]
Content = bytes | AsyncIterator[bytes]
CHUNK = 64 * 1024


class Answer(Protocol):
    status: int
    headers: Headers  # raw, as the replica sent them

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def read(self) -> bytes:
        """The whole body (a short one: the proxy checks its length against Content-Length)."""
        ...

    async def aclose(self) -> None: ...


class Upstream(Protocol):
    async def send(
        self, method: str, url: str, headers: Headers, content: Content, deadline: float
    ) -> Answer: ...


def _transport_error(exc: Exception) -> httpx.TransportError:
    """aiohttp's error as httpx's: a timeout stays a timeout, and nothing else becomes one."""
    message = type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)
    if isinstance(exc, TimeoutError):  # aiohttp's socket-read timeout is one too
        return httpx.ReadTimeout(message)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)
    return httpx.ReadError(message)


@lru_cache(maxsize=8)
def _timeout(deadline: float) -> aiohttp.ClientTimeout:
    """One deadline for connecting and for each read, made once (the settings' deadline is fixed)."""
    return aiohttp.ClientTimeout(sock_connect=deadline, sock_read=deadline, connect=deadline)


class _AiohttpAnswer:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.status = response.status
        self.headers: Headers = list(response.raw_headers)

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.response.content.iter_chunked(CHUNK):
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _transport_error(exc) from exc

    async def read(self) -> bytes:
        try:
            return await self.response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _transport_error(exc) from exc

    async def aclose(self) -> None:
        self.response.release()


class AiohttpUpstream:
    """aiohttp's pool without its conveniences: no cookie jar (one user's cookies must never ride
    along on another user's request), no decompression (the answer passes through as sent), no
    redirects followed."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._session: aiohttp.ClientSession | None = None

    def _pool(self) -> aiohttp.ClientSession:
        if self._session is None:  # made inside the running event loop, on first use
            connector = aiohttp.TCPConnector(limit=200, limit_per_host=self.per_host, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
            )
        return self._session

    async def send(
        self, method: str, url: str, headers: Headers, content: Content, deadline: float
    ) -> Answer:
        out = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
        try:
            response = await self._pool().request(
                method,
                url,
                headers=out,
                data=content if content != b"" else None,
                allow_redirects=False,
                compress=False,
                timeout=_timeout(deadline),
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _transport_error(exc) from exc
        return _AiohttpAnswer(response)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class _HttpxAnswer:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status = response.status_code
        self.headers: Headers = list(response.headers.raw)

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self.response.stream:  # type: ignore[union-attr]
            yield chunk

    async def read(self) -> bytes:
        return await self.response.aread()

    async def aclose(self) -> None:
        await self.response.stream.aclose()  # type: ignore[union-attr]


class HttpxUpstream:
    """Any httpx transport as an upstream: the test stack's ``httpx.ASGITransport`` mounts (which
    their owner closes)."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport

    async def send(
        self, method: str, url: str, headers: Headers, content: Content, deadline: float
    ) -> Answer:
        request = httpx.Request(method, url, headers=headers, content=content)
        request.extensions["timeout"] = dict.fromkeys(("connect", "read", "write", "pool"), deadline)
        return _HttpxAnswer(await self.transport.handle_async_request(request))
