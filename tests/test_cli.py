"""The ``jiuzhu`` command: help, token minting, key rotation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from services.common.auth.keys import CachedPublicKeys, KeyStore
from services.common.auth.tokens import TokenVerifier
from services.common.cli import main
from services.common.settings import Settings


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "services.common.cli", *args],
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
