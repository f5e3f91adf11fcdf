"""``jiuzhu``: run the stack, migrate, seed, mint development tokens, rotate signing keys.

It stands above the services and the gateway (it starts them and seeds every service's demo data),
so ``services.common`` — the ground floor they share — imports nothing of theirs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from gateway import shared
from jiuzhu import demo, pools
from jiuzhu.supervisor import Supervised, stop_all
from services.common.auth.keys import KeyStore
from services.common.auth.tokens import ROLES, mint
from services.common.database import async_url, embedded_url, start_embedded, stop_embedded
from services.common.health import migrate
from services.common.pii import load_vault
from services.common.settings import Settings, get_settings

T = TypeVar("T")
# Regions of the demo tokens `jiuzhu up` prints (昆明市 五华区 and its first subdistrict).
DEMO_PRINCIPALS: list[tuple[str, str, str | None]] = [
    ("province_admin", "53", None),
    ("prefecture_official", "5301", None),
    ("county_official", "530102", None),
    ("county_government", "530102", None),
    ("township_official", "530102001", None),
    ("finance_official", "53", None),
    ("auditor", "53", None),
    ("service", "53", "staffing:read contracts:read penalties:read events:read"),
]
SERVICES = [
    ("staffing", "services.staffing_api.app:create_app"),
    ("contract", "services.contract_api.app:create_app"),
    ("penalty", "services.penalty_api.app:create_app"),
]


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Database:
    """The database a command works on: ``DATABASE_URL``, or the embedded server in the data directory."""

    def __init__(self, settings: Settings) -> None:
        self.server: Any = None
        self.owner = False
        if settings.database_url:
            self.url = async_url(settings.database_url)
        else:
            # The process that finds the server stopped starts it, and owns it: it stops it on the
            # way out, even if a killed jiuzhu command is still listed as holding it.
            self.owner = not (settings.pg_dir / "postmaster.pid").exists()
            self.server = start_embedded(settings.pg_dir, stop_on_exit=True)
            self.url = embedded_url(self.server)

    def close(self) -> None:
        if self.server is not None:
            self.server.cleanup()  # stops PostgreSQL when no other live jiuzhu process holds it
            if self.owner:
                stop_embedded(self.server)
            self.server = None


async def _seed(url: str, only_if_empty: bool, settings: Settings) -> demo.Seeded:
    return await _with_connection(url, lambda conn: demo.seed(conn, settings, only_if_empty=only_if_empty))


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    db = Database(settings)
    try:
        migrate(db.url)
        out("migrated to head")
    finally:
        db.close()
    return 0


def cmd_seed(settings: Settings, _: argparse.Namespace) -> int:
    db = Database(settings)
    try:
        out("\n".join(asyncio.run(_seed(db.url, only_if_empty=False, settings=settings)).lines))
    finally:
        db.close()
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    try:
        token = mint(
            settings,
            KeyStore(settings.keys_dir),
            role=args.role,
            region=args.region,
            sub=args.sub,
            org_id=args.org_id,
            scope=args.scope,
            ttl=args.ttl,
        )
    except ValueError as exc:
        sys.stderr.write(f"jiuzhu token: {exc}\n")
        return 2
    out(token)
    return 0


async def _with_connection(url: str, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            return await work(conn)
    finally:
        await engine.dispose()


def cmd_user_add(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.accounts import add_user, new_secret

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else new_secret()
    db = Database(settings)
    try:
        asyncio.run(
            _with_connection(
                db.url,
                lambda conn: add_user(
                    conn, args.username, password, role=args.role, region=args.region, org_id=args.org_id
                ),
            )
        )
    except (ValueError, IntegrityError) as exc:
        sys.stderr.write(f"jiuzhu user add: {_reason(exc)}\n")
        return 2
    finally:
        db.close()
    out(
        f"user {args.username} created"
        + ("" if args.password_stdin else f"; password (shown once): {password}")
    )
    return 0


def cmd_client_add(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.accounts import add_client, new_secret

    secret = new_secret()
    db = Database(settings)
    try:
        asyncio.run(
            _with_connection(
                db.url,
                lambda conn: add_client(conn, args.client_id, secret, region=args.region, scope=args.scope),
            )
        )
    except (ValueError, IntegrityError) as exc:
        sys.stderr.write(f"jiuzhu client add: {_reason(exc)}\n")
        return 2
    finally:
        db.close()
    out(f"client {args.client_id} created; secret (shown once): {secret}")
    return 0


def _reason(exc: Exception) -> str:
    return "that name is already taken" if isinstance(exc, IntegrityError) else str(exc)


def cmd_keys_rotate(settings: Settings, _: argparse.Namespace) -> int:
    kid = KeyStore(settings.keys_dir).rotate()
    out(f"new signing key {kid}; earlier keys keep verifying the tokens they signed")
    return 0


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


def _wait_ready(urls: Sequence[str], procs: Sequence[subprocess.Popen[bytes]], timeout: float = 60.0) -> bool:
    """Every URL answers 200, or False once a process has died or the time is up."""
    deadline = time.monotonic() + timeout
    waiting = list(urls)
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            return False
        try:
            while waiting and httpx.get(waiting[0], timeout=2.0).status_code == 200:
                waiting.pop(0)
        except httpx.HTTPError:
            pass
        if not waiting:
            return True
        time.sleep(0.3)
    return False


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    KeyStore(settings.keys_dir).ensure()
    load_vault(settings)  # creates the PII key once, before the services race to
    db = Database(settings)
    services: list[Supervised] = []
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        replicas = args.replicas or settings.replicas
        workers = args.workers or settings.workers
        processes = (len(SERVICES) * replicas + 1) * workers  # the gateway's workers too
        allowed = asyncio.run(_with_connection(db.url, pools.allowed_connections))
        pool = pools.pool_share(allowed, processes, settings.db_pool_size)
        if pool < pools.MIN_POOL:  # before anything is migrated, seeded or started
            _err(pools.too_few(pool, processes, allowed))
            return 1
        migrate(db.url)
        seeded = asyncio.run(_seed(db.url, only_if_empty=True, settings=settings))
        # Service i's replica r listens on port + 1 + 3r + i: one replica is the familiar 8001–8003.
        ports = {
            name: [args.port + 1 + 3 * r + i for r in range(replicas)] for i, (name, _) in enumerate(SERVICES)
        }
        env = {
            **os.environ,
            "DATABASE_URL": db.url,
            "JIUZHU_DATA_DIR": str(data_dir),
            "JIUZHU_DB_POOL_SIZE": str(pool),
            **{
                f"JIUZHU_UPSTREAM_{name.upper()}": ",".join(f"http://127.0.0.1:{p}" for p in taken)
                for name, taken in ports.items()
            },
        }
        gateway_env = {**env, **shared.fresh_directory(data_dir / "run" / "gateway")}
        apps = [
            *(
                (name if replicas == 1 else f"{name}#{r + 1}", factory, ports[name][r])
                for name, factory in SERVICES
                for r in range(replicas)
            ),
            ("gateway", "gateway.app:create_app", args.port),
        ]
        for name, factory, port in apps:
            # Each service, and the gateway, runs several worker processes on one socket, so a
            # deployment uses its cores. The gateway's workers share their limits, revocations and
            # metrics through files in one directory (gateway/shared.py).
            scale = ["--workers", str(workers)] if workers > 1 else []
            # A service keeps idle connections longer than the gateway's pool does (30 s, gateway/app.py), so
            # the gateway always closes first: a service closing one just as the gateway reuses it
            # would turn a POST into a 502.
            keep = ["--timeout-keep-alive", "75"] if name != "gateway" else []
            cmd = [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                factory,
                "--host",
                args.host,
                "--port",
                str(port),
                "--no-server-header",
                "--log-level",
                "warning",
                *scale,
                *keep,
            ]
            services.append(Supervised(name, cmd, gateway_env if name == "gateway" else env))
            services[-1].start(time.monotonic())
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
        base = f"http://{host}:{args.port}"
        # The gateway is ready once one replica of each service is; "ready" here means every
        # process started, so the first requests are spread over all the replicas.
        every = [f"{base}/readyz", *(f"http://{host}:{p}/readyz" for taken in ports.values() for p in taken)]
        if not _wait_ready(every, [s.proc for s in services if s.proc is not None]):
            sys.stderr.write("jiuzhu up: the stack did not become ready\n")
            return 1
        out("\n".join(seeded.lines))
        out(f"\nJiuzhu gateway  {base}    (ready: {base}/readyz, API document: {base}/docs)")
        out(f"  services and gateway run {workers} worker process(es) each (--workers, JIUZHU_WORKERS)")
        out(f"  each process keeps at most {pool} database connections (the server allows {allowed})")
        if replicas > 1:
            out(f"  and {replicas} replicas each (--replicas, JIUZHU_REPLICAS), spread by the gateway")
        for name, taken in ports.items():
            out(f"  {name:<9} API document http://127.0.0.1:{taken[0]}/docs")
        out("\nDemo tokens (Authorization: Bearer ...):")
        for role, region, scope in DEMO_PRINCIPALS:
            ttl = settings.token_ttl_client if role == "service" else settings.token_ttl_person
            token = mint(
                settings, KeyStore(settings.keys_dir), role=role, region=region, scope=scope, ttl=ttl
            )
            out(f"\n# {role} @ {region}\n{token}")
        for label, claims in demo.principals(seeded.county):
            token = mint(settings, KeyStore(settings.keys_dir), ttl=settings.token_ttl_person, **claims)
            out(f"\n# {label}\n{token}")
        out(
            f'\nTry: curl -H "Authorization: Bearer $TOKEN" {base}/api/v1/regions/53'
            f"\nSign in: curl -d grant_type=password -d username=demo-county -d password=PW {base}/auth/token"
            "\nCtrl-C stops everything."
        )
        while not stopping:
            # A process that dies is restarted after a backoff; the others keep serving.
            for service in services:
                service.check(time.monotonic(), _err)
            time.sleep(0.3)
        return 0
    finally:
        stop_all(services)
        db.close()
        out("stopped")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jiuzhu",
        description="Jiuzhu 救助: Yunnan's purchase of social-assistance services. Settings come from "
        "JIUZHU_* environment variables and DATABASE_URL; data (embedded database, signing keys) "
        "lives in JIUZHU_DATA_DIR (default ./var).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start PostgreSQL, migrate, seed, the three services and the gateway")
    up.add_argument(
        "--port",
        type=int,
        default=8000,
        help="gateway port; the services take the next three (three per replica)",
    )
    up.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in containers)")
    up.add_argument(
        "--workers", type=int, help="processes per service (default JIUZHU_WORKERS, else one per CPU core)"
    )
    up.add_argument(
        "--replicas",
        type=int,
        choices=range(1, 9),
        metavar="N",
        help="copies of each service on their own ports, restarted one by one (default JIUZHU_REPLICAS, 1)",
    )
    up.set_defaults(func=cmd_up)
    sub.add_parser("migrate", help="apply database migrations up to head").set_defaults(func=cmd_migrate)
    sub.add_parser("seed", help="load regions and demo statistics (idempotent)").set_defaults(func=cmd_seed)
    tok = sub.add_parser("token", help="print a token signed with the deployment's current key")
    tok.add_argument("--role", required=True, choices=sorted(ROLES), help="role claim")
    tok.add_argument("--region", required=True, help="region code claim, e.g. 53 or 530102")
    tok.add_argument("--org-id", help="organisation id (contractor and worker roles)")
    tok.add_argument("--sub", help="subject; default ROLE:REGION")
    tok.add_argument("--scope", help='service account scopes, e.g. "staffing:read events:read"')
    tok.add_argument("--ttl", type=int, help="lifetime in seconds (default 900)")
    tok.set_defaults(func=cmd_token)
    user = sub.add_parser("user", help="people who sign in with a password")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    user_add = user_sub.add_parser(
        "add", help="create a user (prints a generated password unless --password-stdin)"
    )
    user_add.add_argument("username")
    user_add.add_argument("--role", required=True, choices=sorted(ROLES - {"service"}), help="role claim")
    user_add.add_argument("--region", required=True, help="region code claim")
    user_add.add_argument("--org-id", help="organisation id (contractor and worker roles)")
    user_add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    user_add.set_defaults(func=cmd_user_add)
    client = sub.add_parser("client", help="other agencies' systems (client credentials)")
    client_sub = client.add_subparsers(dest="client_command", required=True)
    client_add = client_sub.add_parser("add", help="create a service client (its secret is printed once)")
    client_add.add_argument("client_id")
    client_add.add_argument("--region", required=True, help="region code the client may read")
    client_add.add_argument("--scope", required=True, help='e.g. "staffing:read events:read"')
    client_add.set_defaults(func=cmd_client_add)
    keys = sub.add_parser("keys", help="signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("rotate", help="new signing key; old keys keep verifying their tokens").set_defaults(
        func=cmd_keys_rotate
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    result: int = args.func(settings, args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
