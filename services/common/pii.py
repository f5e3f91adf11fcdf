"""Personal information at rest (PIPL): AES-GCM encryption and a keyed hash for look-ups.

The 64-byte key (32 for AES-256-GCM, 32 for HMAC-SHA256) comes from ``JIUZHU_PII_KEY`` (base64) or
from ``<data dir>/secrets/pii.key``, created on first use with mode 0600; never from the repository.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.common.settings import Settings

KEY_BYTES = 64
NONCE_BYTES = 12


class Vault:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"the PII key has {KEY_BYTES} bytes")
        self._aead = AESGCM(key[:32])
        self._mac_key = key[32:]

    def encrypt(self, text: str, context: str) -> bytes:
        """``context`` (e.g. "person.id_number") is bound as associated data: a ciphertext moved
        to another column does not decrypt."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, text.encode(), context.encode())

    def decrypt(self, blob: bytes, context: str) -> str:
        return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()).decode()

    def digest(self, text: str) -> bytes:
        return hmac.new(self._mac_key, text.encode(), hashlib.sha256).digest()


def load_vault(settings: Settings) -> Vault:
    if settings.pii_key:
        return Vault(base64.b64decode(settings.pii_key))
    return Vault(_key_file(settings.data_dir / "secrets" / "pii.key"))


def _key_file(path: Path) -> bytes:
    if not path.exists():
        # Several processes may start at once: each writes a candidate and links it into place;
        # the link is atomic and fails if another got there first, so all end up with one key.
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        candidate = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(KEY_BYTES))
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_bytes()
