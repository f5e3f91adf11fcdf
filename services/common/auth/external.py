"""Trusted external issuers (the province's unified identity platform): their JWKS, fetched and cached.

Only the URLs or files named in settings are ever fetched, never one taken from a token. A JWKS
is loaded on first use and re-read on an unknown ``kid`` at most once per ``min_refresh`` seconds.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

log = logging.getLogger("jiuzhu.auth")


def check_jwks_location(location: str) -> None:
    """https only, except loopback addresses over http (development and tests); or a file path."""
    parts = urlsplit(location)
    if parts.scheme == "":
        return
    if parts.scheme == "https":
        return
    if parts.scheme == "http":
        try:
            if ipaddress.ip_address(parts.hostname or "").is_loopback:
                return
        except ValueError:
            pass
    raise ValueError(f"JWKS location must be https (or http on a loopback address): {location}")


class JwksSource:
    def __init__(self, location: str, *, timeout: float = 5.0, min_refresh: float = 60.0) -> None:
        check_jwks_location(location)
        self.location = location
        self.timeout = timeout
        self.min_refresh = min_refresh
        self._keys: dict[str, jwt.PyJWK] = {}
        self._loaded_at = float("-inf")

    async def get(self, kid: str) -> jwt.PyJWK | None:
        key = self._keys.get(kid)
        if key is None and time.monotonic() - self._loaded_at >= self.min_refresh:
            self._loaded_at = time.monotonic()  # also after a failure: no hammering a broken endpoint
            try:
                self._keys = _parse(await self._read())
            except (httpx.HTTPError, OSError, ValueError) as exc:
                log.warning("could not load JWKS from %s: %s", self.location, type(exc).__name__)
            key = self._keys.get(kid)
        return key

    async def _read(self) -> dict[str, Any]:
        if urlsplit(self.location).scheme == "":
            data: dict[str, Any] = json.loads(await asyncio.to_thread(Path(self.location).read_text))
            return data
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
            response = await client.get(self.location)
            response.raise_for_status()
            fetched: dict[str, Any] = response.json()
            return fetched


def _parse(jwks: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    keys: dict[str, jwt.PyJWK] = {}
    for entry in jwks.get("keys", []):
        if not isinstance(entry, dict) or "kid" not in entry or "d" in entry:
            continue  # a key without an id cannot be chosen; a private key has no business here
        try:
            keys[str(entry["kid"])] = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            continue
    return keys
