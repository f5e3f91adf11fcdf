"""Token verification (gateway.md, *Verification*), one implementation for the gateway and every service."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import jwt

from services.common.auth.external import JwksSource
from services.common.auth.keys import CachedPublicKeys, KeyStore
from services.common.errors import DomainError, unauthorized
from services.common.regions import InvalidRegionCode, normalize
from services.common.settings import Settings

ROLES = frozenset(
    {
        "province_admin",
        "prefecture_official",
        "county_official",
        "county_government",
        "township_official",
        "finance_official",
        "contractor",
        "worker",
        "auditor",
        "service",
    }
)
REALM = 'Bearer realm="jiuzhu"'
REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "exp", "jti", "role", "region")


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the verified token says."""

    sub: str
    role: str
    region: str
    jti: str
    expires_at: datetime
    org_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)


def no_token() -> DomainError:
    return unauthorized(
        "UNAUTHENTICATED", "缺少访问令牌", "An access token is required", www_authenticate=REALM
    )


def invalid_token(why_en: str) -> DomainError:
    return unauthorized(
        "INVALID_TOKEN",
        "访问令牌无效",
        f"The access token is invalid: {why_en}",
        www_authenticate=f'{REALM}, error="invalid_token"',
    )


def invalid_request() -> DomainError:
    return unauthorized(
        "INVALID_REQUEST",
        "请求只能携带一个访问令牌，且只能放在 Authorization 头中",
        "Send exactly one token, in the Authorization header",
        www_authenticate=f'{REALM}, error="invalid_request"',
    )


RevocationCheck = Callable[[str], Awaitable[bool]]
OWN_ALGORITHMS = ("ES256",)
EXTERNAL_ALGORITHMS = ("ES256", "RS256")


class TokenVerifier:
    """The whole verification list of gateway.md, for our own tokens and trusted external issuers.

    A verified token is remembered (keyed by its SHA-256, bounded, until ``exp``) so the ES256 check
    (~120 µs) runs once per token, not once per request; revocation is still checked every time.
    """

    def __init__(
        self,
        settings: Settings,
        keys: CachedPublicKeys,
        is_revoked: RevocationCheck | None = None,
        external: Mapping[str, JwksSource] | None = None,
    ) -> None:
        self.settings = settings
        self.keys = keys
        self.is_revoked = is_revoked
        self.external = dict(external) if external is not None else external_sources(settings)
        self._cache: OrderedDict[str, Principal] = OrderedDict()

    async def authenticate(self, authorization: Sequence[str], query_string: bytes) -> Principal:
        """Pick the one bearer token out of a request and verify it."""
        query_token = b"access_token" in query_string and any(
            k == "access_token" for k, _ in parse_qsl(query_string.decode("latin-1"))
        )
        if len(authorization) > 1 or (authorization and query_token):
            raise invalid_request()
        if not authorization:
            # A token in the query string is ignored, never accepted (RFC 6750 §2.3 is not offered).
            raise no_token()
        scheme, _, token = authorization[0].strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise invalid_token("expected 'Bearer <token>'")
        principal = await self.verify(token.strip())
        if self.is_revoked is not None and await self.is_revoked(principal.jti):
            raise invalid_token("revoked")
        return principal

    async def verify(self, token: str, now: float | None = None) -> Principal:
        now = time.time() if now is None else now
        fingerprint = token_fingerprint(token)
        cached = self._cache.get(fingerprint)
        if cached is not None:
            if cached.expires_at.timestamp() + self.settings.clock_skew >= now:
                return cached
            del self._cache[fingerprint]
        principal = await self._verify(token, now)
        if self.settings.verified_token_cache > 0:
            self._cache[fingerprint] = principal
            if len(self._cache) > self.settings.verified_token_cache:
                self._cache.popitem(last=False)
        return principal

    async def _verify(self, token: str, now: float) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise invalid_token("malformed") from None
        alg, kid, iss = header.get("alg"), header.get("kid"), unverified.get("iss")
        key: Any
        if iss == self.settings.token_issuer or iss not in self.external:
            # Unknown issuers are checked against our own keys and fail on `iss` (or earlier).
            if alg not in OWN_ALGORITHMS:
                raise invalid_token("algorithm not allowed")
            key = self.keys.get(kid) if isinstance(kid, str) else None
            issuer, audience = self.settings.token_issuer, self.settings.token_audience
        else:
            if alg not in EXTERNAL_ALGORITHMS:
                raise invalid_token("algorithm not allowed")
            jwk = await self.external[iss].get(kid) if isinstance(kid, str) else None
            # No algorithm confusion: the token's alg must be the one its key is for.
            if jwk is not None and jwk.algorithm_name != alg:
                raise invalid_token("algorithm does not match the key")
            key = jwk.key if jwk is not None else None
            issuer, audience = iss, self.settings.external_issuers[iss].audience
        if key is None:
            raise invalid_token("unknown key id")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer,
                leeway=self.settings.clock_skew,
                options={"require": list(REQUIRED_CLAIMS), "verify_iat": False},
            )
        except jwt.ExpiredSignatureError:
            raise invalid_token("expired") from None
        except jwt.ImmatureSignatureError:
            raise invalid_token("not yet valid") from None
        except jwt.InvalidSignatureError:
            raise invalid_token("bad signature") from None
        except jwt.InvalidAudienceError:
            raise invalid_token("wrong audience") from None
        except jwt.InvalidIssuerError:
            raise invalid_token("wrong issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise invalid_token(f"missing claim {exc.claim}") from None
        except jwt.PyJWTError:
            raise invalid_token("malformed") from None
        return self._principal(claims, now)

    def _principal(self, claims: dict[str, Any], now: float) -> Principal:
        iat, exp = claims["iat"], claims["exp"]
        if not isinstance(iat, int | float) or isinstance(iat, bool):
            raise invalid_token("iat is not a number")
        if iat > now + self.settings.clock_skew:
            raise invalid_token("issued in the future")
        if exp - iat > self.settings.token_max_lifetime:
            raise invalid_token("lifetime too long")
        for name in ("sub", "role", "region", "jti"):
            if not isinstance(claims[name], str) or not claims[name]:
                raise invalid_token(f"claim {name} must be a non-empty string")
        if claims["role"] not in ROLES:
            raise invalid_token("unknown role")
        try:
            region = normalize(claims["region"], self.settings.province_code)
        except InvalidRegionCode:
            raise invalid_token("malformed region") from None
        org_id = claims.get("org_id")
        scope = claims.get("scope", "")
        if not isinstance(scope, str) or (org_id is not None and not isinstance(org_id, str | int)):
            raise invalid_token("malformed scope or org_id")
        return Principal(
            sub=claims["sub"],
            role=claims["role"],
            region=region,
            jti=claims["jti"],
            expires_at=datetime.fromtimestamp(exp, UTC),
            org_id=None if org_id is None else str(org_id),
            scopes=frozenset(scope.split()),
        )


def mint(
    settings: Settings,
    store: KeyStore,
    *,
    role: str,
    region: str,
    sub: str | None = None,
    org_id: str | None = None,
    scope: str | None = None,
    ttl: int | None = None,
    now: float | None = None,
) -> str:
    """Sign a token with the deployment's current key (CLI, demo tokens, tests)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(sorted(ROLES))}")
    region = normalize(region, settings.province_code)
    ttl = settings.token_ttl_person if ttl is None else ttl
    if not 0 < ttl <= settings.token_max_lifetime:
        raise ValueError(f"ttl must be between 1 and {settings.token_max_lifetime} seconds")
    now_i = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": sub or f"{role}:{region}",
        "iat": now_i,
        "exp": now_i + ttl,
        "jti": uuid.uuid4().hex,
        "role": role,
        "region": region,
    }
    if org_id is not None:
        claims["org_id"] = org_id
    if scope:
        claims["scope"] = scope
    kid, key = store.signing_key()
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})


def token_fingerprint(token: str) -> str:
    """A hash safe to log or to key a cache with; never log the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def external_sources(settings: Settings) -> dict[str, JwksSource]:
    return {
        iss: JwksSource(cfg.jwks, min_refresh=settings.external_jwks_refresh)
        for iss, cfg in settings.external_issuers.items()
    }
