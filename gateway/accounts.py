"""Users and service clients: Argon2id hashes, creation (CLI and seed), demo users per role."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.auth.tokens import ROLES
from services.common.models import ServiceClient, User
from services.common.regions import normalize

# argon2-cffi's defaults are RFC 9106's second recommended profile for Argon2id.
HASHER = PasswordHasher()
# Verified against when the name is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))
SCOPES = frozenset({"staffing:read", "contracts:read", "penalties:read", "events:read"})
DEMO_FILE = "demo-credentials.txt"
# One demo user per role whose claims exist yet (contractors and persons do not).
DEMO_USERS: list[tuple[str, str, str]] = [
    ("demo-province", "province_admin", "53"),
    ("demo-prefecture", "prefecture_official", "5301"),
    ("demo-county", "county_official", "530102"),
    ("demo-county-gov", "county_government", "530102"),
    ("demo-township", "township_official", "530102001"),
    ("demo-finance", "finance_official", "53"),
    ("demo-auditor", "auditor", "53"),
]


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    try:
        return HASHER.verify(stored_hash or _DUMMY_HASH, secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    return secrets.token_urlsafe(18)


async def add_user(
    conn: AsyncConnection,
    username: str,
    password: str,
    *,
    role: str,
    region: str,
    org_id: str | None = None,
    sub: str | None = None,
) -> None:
    if role not in ROLES or role == "service":
        raise ValueError(f"role must be a person's role, one of {', '.join(sorted(ROLES - {'service'}))}")
    if role in ("contractor", "worker") and org_id is None:
        raise ValueError("contractor and worker users need --org-id")
    if len(password) < 12:
        raise ValueError("a password has at least 12 characters")
    await conn.execute(
        insert(User).values(
            username=username,
            password_hash=HASHER.hash(password),
            sub=sub or f"user:{username}",
            role=role,
            region=normalize(region),
            org_id=org_id,
        )
    )


async def add_client(conn: AsyncConnection, client_id: str, secret: str, *, region: str, scope: str) -> None:
    scopes = scope.split()
    unknown = set(scopes) - SCOPES
    if not scopes or unknown:
        raise ValueError(f"scopes must be among {', '.join(sorted(SCOPES))}")
    await conn.execute(
        insert(ServiceClient).values(
            client_id=client_id,
            secret_hash=HASHER.hash(secret),
            region=normalize(region),
            scope=" ".join(scopes),
        )
    )


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    region: str


async def ensure_demo_users(conn: AsyncConnection, data_dir: Path) -> list[DemoUser]:
    """Create the demo users once; their passwords live only in ``data_dir/demo-credentials.txt`` (0600)."""
    path = data_dir / DEMO_FILE
    # Small local files read once at start-up (CLI), not on a request path.
    known = {line.split("\t")[0]: line.split("\t") for line in _read_lines(path)}
    existing = set((await conn.execute(select(User.username))).scalars())
    users: list[DemoUser] = []
    for username, role, region in DEMO_USERS:
        if username in known and username in existing:
            _, password, role, region = known[username]
        elif username in existing:
            continue  # created elsewhere; its password is not ours to show
        else:
            password = new_secret()
            await add_user(conn, username, password, role=role, region=region)
        users.append(DemoUser(username, password, role, region))
    data_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - start-up, see above
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        for u in users:
            fh.write(f"{u.username}\t{u.password}\t{u.role}\t{u.region}\n")
    return users


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text().splitlines() if line.count("\t") == 3]
