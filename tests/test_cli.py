"""The ``jiuzhu`` command: help, token minting, key rotation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from jiuzhu.cli import main
from services.common.auth.keys import CachedPublicKeys, KeyStore
from services.common.auth.tokens import TokenVerifier
from services.common.settings import Settings


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "jiuzhu.cli", *args],
        capture_output=True,
        text=True,
        env={"JIUZHU_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
        check=False,
        timeout=60,
    )


def test_help_explains_every_subcommand(tmp_path: Path) -> None:
    top = run("--help", data_dir=tmp_path)
    assert top.returncode == 0
    for sub in ("up", "migrate", "seed", "token", "keys"):
        assert sub in top.stdout
    token_help = run("token", "--help", data_dir=tmp_path).stdout
    for flag in ("--role", "--region", "--org-id", "--sub", "--scope", "--ttl"):
        assert flag in token_help


async def test_token_and_rotation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIUZHU_DATA_DIR", str(tmp_path))
    from services.common.settings import get_settings

    get_settings.cache_clear()
    try:
        assert (
            main(
                [
                    "token",
                    "--role",
                    "county_official",
                    "--region",
                    "530102000000",
                    "--org-id",
                    "7",
                    "--ttl",
                    "60",
                ]
            )
            == 0
        )
        old = capsys.readouterr().out.strip()
        assert main(["keys", "rotate"]) == 0
        capsys.readouterr()
        assert main(["token", "--role", "province_admin", "--region", "53"]) == 0
        new = capsys.readouterr().out.strip()
        assert main(["token", "--role", "province_admin", "--region", "53", "--ttl", "99999"]) == 2
        assert main(["token", "--role", "province_admin", "--region", "99"]) == 2
    finally:
        get_settings.cache_clear()
    assert jwt.get_unverified_header(old)["kid"] != jwt.get_unverified_header(new)["kid"]
    settings = Settings(data_dir=tmp_path)
    verifier = TokenVerifier(settings, CachedPublicKeys(KeyStore(settings.keys_dir), 0.0))
    p = await verifier.verify(old)  # tokens of the old key keep verifying after rotation
    assert (p.role, p.region, p.org_id) == ("county_official", "530102", "7")
    assert jwt.decode(old, options={"verify_signature": False})["exp"] - p.expires_at.timestamp() == 0
    assert (await verifier.verify(new)).role == "province_admin"
    key_file = next((tmp_path / "keys").glob("*.key.pem"))
    assert key_file.stat().st_mode & 0o777 == 0o600


async def test_rotation_is_seen_without_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, key_reload_interval=0.0)
    store = KeyStore(settings.keys_dir)
    store.ensure()
    verifier = TokenVerifier(settings, CachedPublicKeys(store, settings.key_reload_interval))
    store.rotate()  # another process rotates; this verifier has never seen the new kid
    from services.common.auth.tokens import mint

    assert (await verifier.verify(mint(settings, store, role="auditor", region="53"))).role == "auditor"


async def test_user_and_client_add(db_url: str, tmp_path: Path, engine: object) -> None:
    import asyncio

    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncEngine

    from gateway.accounts import verify_secret
    from services.common.models import ServiceClient, User

    assert isinstance(engine, AsyncEngine)
    env = {"JIUZHU_DATA_DIR": str(tmp_path), "DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "jiuzhu.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )

    given = await asyncio.to_thread(
        cli,
        "user",
        "add",
        "zhao",
        "--role",
        "auditor",
        "--region",
        "530100",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert given.returncode == 0, given.stderr
    assert "a long enough password" not in given.stdout
    generated = await asyncio.to_thread(
        cli, "user", "add", "qian", "--role", "county_official", "--region", "530102"
    )
    assert generated.returncode == 0
    password = generated.stdout.strip().rsplit(" ", 1)[-1]
    again = await asyncio.to_thread(
        cli, "user", "add", "qian", "--role", "county_official", "--region", "530102"
    )
    assert again.returncode == 2 and "taken" in again.stderr
    short = await asyncio.to_thread(
        cli, "user", "add", "sun", "--role", "auditor", "--region", "53", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 2
    client = await asyncio.to_thread(
        cli, "client", "add", "ministry", "--region", "53", "--scope", "staffing:read events:read"
    )
    assert client.returncode == 0
    secret = client.stdout.strip().rsplit(" ", 1)[-1]
    bad_scope = await asyncio.to_thread(
        cli, "client", "add", "other", "--region", "53", "--scope", "everything"
    )
    assert bad_scope.returncode == 2
    async with engine.connect() as conn:
        users = {u.username: u for u in (await conn.execute(select(User))).all()}
        ministry = (
            await conn.execute(select(ServiceClient).where(ServiceClient.client_id == "ministry"))
        ).one()
    assert users["zhao"].region == "5301" and verify_secret(
        users["zhao"].password_hash, "a long enough password"
    )
    assert verify_secret(users["qian"].password_hash, password)
    assert "sun" not in users
    assert verify_secret(ministry.secret_hash, secret) and ministry.scope == "staffing:read events:read"


@pytest.mark.parametrize(("cores", "workers"), [(1, 1), (2, 2), (3, 3), (4, 4), (5, 4), (64, 4)])
def test_worker_processes_follow_the_cores_up_to_four(cores: int, workers: int) -> None:
    from services.common.settings import default_workers

    assert default_workers(cores) == workers


def test_workers_setting_refuses_zero(tmp_path: Path) -> None:
    from pydantic import ValidationError

    assert Settings(data_dir=tmp_path, workers=3).workers == 3
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, workers=0)


def test_starting_the_embedded_database_prints_no_library_warning(tmp_path: Path) -> None:
    """Issue 13: without XDG_RUNTIME_DIR (a server, CI) platformdirs warned before anything else."""
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    code = (
        "from pathlib import Path; from services.common.database import start_embedded;"
        f"s = start_embedded(Path({str(tmp_path / 'pg')!r}), stop_on_exit=True); s.cleanup()"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)  # noqa: S603
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr


def test_the_owner_stops_the_database_whatever_a_killed_holder_left(tmp_path: Path) -> None:
    """Issue 13: a `jiuzhu` command that joined the embedded server and was killed stays on pgserver's
    list of holders, and the server outlived `jiuzhu up`. The process that started it stops it."""
    import signal

    from jiuzhu.cli import Database
    from services.common.database import stop_embedded

    settings = Settings(data_dir=tmp_path)
    owner = Database(settings)
    assert owner.owner
    joins = (
        "import sys, time; from pathlib import Path; from services.common.database import start_embedded;"
        f"start_embedded(Path({str(settings.pg_dir)!r}), stop_on_exit=True); print('joined', flush=True);"
        "time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", joins], stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert holder.stdout is not None and holder.stdout.readline().strip() == "joined"
    joined = Database(settings)  # a command joining the running server does not own it
    assert not joined.owner
    joined.close()
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    assert (settings.pg_dir / "postmaster.pid").exists()
    server = owner.server
    owner.close()
    stopped = not (settings.pg_dir / "postmaster.pid").exists()
    stop_embedded(server)  # a failing run leaves nothing running either
    assert stopped, "PostgreSQL outlived its owner"
