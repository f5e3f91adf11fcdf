"""``POST /auth/token`` (RFC 6749: password and client credentials) and ``POST /auth/revoke``.

Errors here use OAuth's JSON body (``{"error", "error_description"}``), not problem+json.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway import shared
from gateway.accounts import verify_secret
from gateway.limits import retry_after
from services.common.auth.keys import KeyStore
from services.common.auth.revocation import RevocationList
from services.common.auth.tokens import Principal, TokenVerifier, mint
from services.common.errors import DomainError
from services.common.models import LoginAttempt, RevokedToken, ServiceClient, User
from services.common.settings import Settings

LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

Issue = Callable[[], Response]  # mints the token once the secret is verified
Lookup = Callable[[AsyncConnection], Awaitable[tuple[str | None, Issue]]]


def oauth_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**NO_STORE, **(headers or {})},
    )


class SignIn:
    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        verifier: TokenVerifier,
        revoked: RevocationList,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.verifier = verifier
        self.revoked = revoked
        self.clock = clock
        self.keys = KeyStore(settings.keys_dir)
        self.per_address = shared.buckets(
            settings.gateway_shared_dir, "signin-per-address", settings.signin_rate, settings.signin_burst
        )

    async def token(self, request: Request) -> Response:
        address = request.client.host if request.client else "-"
        wait = self.per_address.take(address)
        if wait > 0:
            return oauth_error(
                429, "too_many_requests", "Too many sign-in requests", {"Retry-After": retry_after(wait)}
            )
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        grant = fields.get("grant_type")
        if grant == "password":
            username, password = fields.get("username"), fields.get("password")
            if not username or not password:
                return oauth_error(400, "invalid_request", "username and password are required")
            return await self._attempt(f"user:{username}", password, self._user_token(username))
        if grant == "client_credentials":
            client_id, secret = _client_auth(request, fields)
            if not client_id or not secret:
                return oauth_error(400, "invalid_request", "client_id and client_secret are required")
            return await self._attempt(f"client:{client_id}", secret, self._client_token(client_id))
        return oauth_error(400, "unsupported_grant_type", "grant_type must be password or client_credentials")

    def _user_token(self, username: str) -> Lookup:
        async def lookup(conn: AsyncConnection) -> tuple[str | None, Issue]:
            user = (
                await conn.execute(select(User).where(User.username == username, User.disabled.is_(False)))
            ).one_or_none()

            def issue() -> Response:
                assert user is not None  # noqa: S101 - verify_secret is False without a hash
                ttl = self.settings.token_ttl_person
                token = mint(
                    self.settings,
                    self.keys,
                    role=user.role,
                    region=user.region,
                    sub=user.sub,
                    org_id=user.org_id,
                    ttl=ttl,
                )
                return JSONResponse(
                    {"access_token": token, "token_type": "bearer", "expires_in": ttl}, headers=NO_STORE
                )

            return (user.password_hash if user else None), issue

        return lookup

    def _client_token(self, client_id: str) -> Lookup:
        async def lookup(conn: AsyncConnection) -> tuple[str | None, Issue]:
            client = (
                await conn.execute(
                    select(ServiceClient).where(
                        ServiceClient.client_id == client_id, ServiceClient.disabled.is_(False)
                    )
                )
            ).one_or_none()

            def issue() -> Response:
                assert client is not None  # noqa: S101 - verify_secret is False without a hash
                ttl = self.settings.token_ttl_client
                token = mint(
                    self.settings,
                    self.keys,
                    role="service",
                    region=client.region,
                    sub=f"client:{client_id}",
                    scope=client.scope,
                    ttl=ttl,
                )
                body = {
                    "access_token": token,
                    "token_type": "bearer",
                    "expires_in": ttl,
                    "scope": client.scope,
                }
                return JSONResponse(body, headers=NO_STORE)

            return (client.secret_hash if client else None), issue

        return lookup

    async def _attempt(self, name: str, secret: str, lookup: Lookup) -> Response:
        """One sign-in attempt. The attempt is counted as a failure *before* the secret is checked,
        in a short transaction under the name's advisory lock, and cleared when the secret proves
        right; Argon2 (tens of milliseconds) then runs with no lock and no connection held. Parallel
        guesses still cannot slip past the count: each sees the ones before it. (Until this change
        the lock and one of the gateway's few connections were held through Argon2, so a burst of
        sign-ins stalled everything else the gateway reads from the database.)"""
        now = self.clock()
        async with self.engine.begin() as conn:
            # One attempt per name at a time through the count, so none slips past it.
            await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
            # Failures older than the window no longer count: drop them rather than keep them forever.
            await conn.execute(
                delete(LoginAttempt).where(LoginAttempt.name == name, LoginAttempt.at <= now - LOCKOUT_WINDOW)
            )
            recent = list(
                (
                    await conn.execute(
                        select(LoginAttempt.at)
                        .where(LoginAttempt.name == name, LoginAttempt.at > now - LOCKOUT_WINDOW)
                        .order_by(LoginAttempt.at.desc())
                        .limit(LOCKOUT_FAILURES)
                    )
                ).scalars()
            )
            if len(recent) >= LOCKOUT_FAILURES:
                # Locked until the oldest of the last five failures leaves the window.
                seconds = (recent[-1] + LOCKOUT_WINDOW - now).total_seconds()
                return oauth_error(
                    429,
                    "too_many_attempts",
                    "Too many failed sign-ins; try again later",
                    {"Retry-After": str(max(1, math.ceil(seconds)))},
                )
            secret_hash, issue = await lookup(conn)
            await conn.execute(insert(LoginAttempt).values(name=name, at=now))
        if await asyncio.to_thread(verify_secret, secret_hash, secret):
            async with self.engine.begin() as conn:
                # A successful sign-in clears the name's failures, this attempt's included.
                await conn.execute(delete(LoginAttempt).where(LoginAttempt.name == name))
            return issue()
        if name.startswith("client:"):
            return oauth_error(401, "invalid_client", "Unknown client or wrong secret")
        return oauth_error(401, "invalid_grant", "Wrong username or password")

    async def revoke(self, request: Request, principal: Principal) -> Response:
        """RFC 7009: the caller revokes its own token (or another token of its own, in ``token``)."""
        form = await request.form()
        other = form.get("token")
        target = principal
        if isinstance(other, str) and other:
            try:
                candidate = await self.verifier.verify(other)
            except DomainError:
                return JSONResponse({}, headers=NO_STORE)  # RFC 7009 §2.2: invalid tokens need no error
            if candidate.sub != principal.sub:
                return oauth_error(403, "unauthorized_client", "Only the token's owner may revoke it")
            target = candidate
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(RevokedToken)
                .values(jti=target.jti, expires_at=target.expires_at)
                .on_conflict_do_nothing(index_elements=[RevokedToken.jti])
            )
            # Expired entries can go: an expired token fails on `exp` anyway.
            await conn.execute(delete(RevokedToken).where(RevokedToken.expires_at < func.now()))
        self.revoked.add(target.jti)
        return JSONResponse({}, headers=NO_STORE)


def _client_auth(request: Request, fields: dict[str, str]) -> tuple[str | None, str | None]:
    """Client credentials from HTTP Basic (RFC 6749 §2.3.1) or the form body."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return fields.get("client_id"), fields.get("client_secret")
