"""ES256 signing keys kept in the data directory, each named by its ``kid``.

``<kid>.key.pem`` (0600) signs, ``<kid>.pub.pem`` verifies, ``current`` names the signing key.
Rotation writes a new pair and repoints ``current``; old public keys stay so tokens already
issued keep verifying until they expire. Verifiers re-read the directory on an unknown ``kid``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

PublicKey = ec.EllipticCurvePublicKey
# A kid is a shortened RFC 7638 thumbprint: 16 base64url characters (never a path).
KID_SHAPE = re.compile(r"[A-Za-z0-9_-]{16}")


def _thumbprint(public: PublicKey) -> str:
    """RFC 7638 JWK thumbprint, shortened: stable, derived from the key, reveals nothing."""
    jwk = json.loads(ECAlgorithm.to_jwk(public))
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:16]


class KeyStore:
    """Reads and writes the key files. Safe to share between processes: writes are atomic renames."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def ensure(self) -> str:
        """Create the first key if there is none; return the current kid."""
        current = self.directory / "current"
        if current.exists():
            return current.read_text().strip()
        return self.rotate()

    def rotate(self) -> str:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        private = ec.generate_private_key(ec.SECP256R1())
        kid = _thumbprint(private.public_key())
        key_path = self.directory / f"{kid}.key.pem"
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(
                private.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        (self.directory / f"{kid}.pub.pem").write_bytes(
            private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        tmp = self.directory / "current.tmp"
        tmp.write_text(kid)
        tmp.replace(self.directory / "current")
        return kid

    def signing_key(self) -> tuple[str, ec.EllipticCurvePrivateKey]:
        kid = self.ensure()
        pem = (self.directory / f"{kid}.key.pem").read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TypeError("signing key is not an EC key")
        return kid, key

    def public_key(self, kid: str) -> PublicKey | None:
        """The one public key named ``kid``, read from its file, or None (also for a malformed kid)."""
        if not KID_SHAPE.fullmatch(kid):
            return None
        path = self.directory / f"{kid}.pub.pem"
        try:
            key = serialization.load_pem_public_key(path.read_bytes())
        except (FileNotFoundError, ValueError):
            return None
        return key if isinstance(key, ec.EllipticCurvePublicKey) else None

    def public_keys(self) -> dict[str, PublicKey]:
        keys: dict[str, PublicKey] = {}
        if not self.directory.exists():
            return keys
        for path in sorted(self.directory.glob("*.pub.pem")):
            key = serialization.load_pem_public_key(path.read_bytes())
            if isinstance(key, ec.EllipticCurvePublicKey):
                keys[path.name.removesuffix(".pub.pem")] = key
        return keys


class CachedPublicKeys:
    """The public keys a verifier trusts.

    On an unknown ``kid`` the verifier first looks for that key's own file: `jiuzhu keys rotate`
    writes the public key before it repoints ``current``, so a token the deployment signed always
    finds its key — even right after another refresh (the whole-directory re-read is limited to one
    per ``min_interval`` seconds, and once was what refused new tokens for up to that long). The
    look-up is one ``open`` of a name checked against the kid's shape; a forged kid costs no more."""

    def __init__(self, store: KeyStore, min_interval: float) -> None:
        self.store = store
        self.min_interval = min_interval
        self._keys = store.public_keys()
        self._loaded_at = time.monotonic()

    def get(self, kid: str) -> PublicKey | None:
        key = self._keys.get(kid)
        if key is None:
            key = self.store.public_key(kid)
            if key is not None:
                self._keys = {**self._keys, kid: key}
                return key
        if key is None and time.monotonic() - self._loaded_at >= self.min_interval:
            self._keys = self.store.public_keys()
            self._loaded_at = time.monotonic()
            key = self._keys.get(kid)
        return key

    def jwks(self) -> dict[str, Any]:
        self._keys = self.store.public_keys()
        self._loaded_at = time.monotonic()
        out = []
        for kid, key in self._keys.items():
            jwk = json.loads(ECAlgorithm.to_jwk(key))
            jwk.update({"kid": kid, "use": "sig", "alg": "ES256"})
            out.append(jwk)
        return {"keys": out}
