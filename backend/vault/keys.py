"""Versioned master keys (KEKs) behind `KeyProvider`, the interface a cloud KMS can implement
(wrap = Encrypt with an encryption context, unwrap = Decrypt, versions = key versions).

`LocalKeyring` reads a JSON keyring from a file (reloaded when it changes, so a running API
follows `noderr vault rotate` without a restart) or from NODERR_VAULT_MASTER_KEYS:

    {"current_version": 2, "min_decryption_version": 1,
     "keys": [{"version": 1, "key": "<base64, 32 bytes>", "created_at": "..."}, ...]}
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from backend.vault.crypto import KEY_BYTES, open_sealed, seal


class KeyringError(Exception):
    """The keyring is missing, malformed or cannot serve a version; never carries key bytes."""


class KeyVersionRetired(KeyringError):
    """A data key is wrapped with a version below the minimum decryption version."""


@dataclass(frozen=True)
class KeyVersion:
    version: int
    created_at: str


class KeyProvider(Protocol):
    """What the vault needs from a key manager; key material never leaves it."""

    def current_version(self) -> int: ...

    def min_decryption_version(self) -> int: ...

    def versions(self) -> list[KeyVersion]: ...

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[int, bytes]:
        """(version used, nonce‖ciphertext‖tag) under the current version."""
        ...

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes: ...


@dataclass(frozen=True)
class Keyring:
    current: int
    minimum: int
    keys: dict[int, bytes]
    created: dict[int, str]

    @classmethod
    def parse(cls, text: str, source: str) -> Keyring:
        try:
            raw = json.loads(text)
            keys = {int(k["version"]): base64.b64decode(k["key"], validate=True)
                    for k in raw["keys"]}
            created = {int(k["version"]): str(k.get("created_at", "")) for k in raw["keys"]}
            ring = cls(int(raw["current_version"]), int(raw.get("min_decryption_version", 1)),
                       keys, created)
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise KeyringError(f"{source} is not a valid vault keyring (JSON with "
                               "current_version, min_decryption_version, keys)") from None
        ring.check(source)
        return ring

    def check(self, source: str) -> None:
        if any(len(key) != KEY_BYTES for key in self.keys.values()):
            raise KeyringError(f"{source}: every master key must be {KEY_BYTES} bytes")
        if self.current not in self.keys:
            raise KeyringError(f"{source}: current_version {self.current} has no key")
        if not 1 <= self.minimum <= self.current:
            raise KeyringError(f"{source}: min_decryption_version must be within "
                               f"1..current_version ({self.current})")

    def dump(self) -> str:
        return json.dumps({
            "current_version": self.current, "min_decryption_version": self.minimum,
            "keys": [{"version": v, "key": base64.b64encode(k).decode(),
                      "created_at": self.created.get(v, "")}
                     for v, k in sorted(self.keys.items())]}, indent=2) + "\n"


class LocalKeyring:
    """A KeyProvider over a keyring file (followed as it changes) or a fixed JSON text."""

    def __init__(self, path: Path | None = None, text: str | None = None) -> None:
        if (path is None) == (text is None):
            raise KeyringError("a keyring needs exactly one of a file or a JSON text")
        self.path, self._lock = path, threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._ring = Keyring.parse(text, "NODERR_VAULT_MASTER_KEYS") if text else self._load()

    def _load(self) -> Keyring:
        assert self.path is not None
        try:
            stat = self.path.stat()
            ring = Keyring.parse(self.path.read_text(), str(self.path))
        except FileNotFoundError:
            raise KeyringError(f"no vault keyring at {self.path}: run `noderr vault rotate` "
                               "to create the first master key") from None
        self._stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        return ring

    def ring(self) -> Keyring:
        """The keyring, re-read if its file changed (replaced: new inode) since the last call."""
        if self.path is None:
            return self._ring
        stat = self.path.stat() if self.path.exists() else None
        if stat is not None and (stat.st_ino, stat.st_mtime_ns, stat.st_size) != self._stamp:
            with self._lock:
                self._ring = self._load()
        return self._ring

    def current_version(self) -> int:
        return self.ring().current

    def min_decryption_version(self) -> int:
        return self.ring().minimum

    def versions(self) -> list[KeyVersion]:
        ring = self.ring()
        return [KeyVersion(v, ring.created.get(v, "")) for v in sorted(ring.keys)]

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[int, bytes]:
        ring = self.ring()
        nonce, sealed = seal(ring.keys[ring.current], data_key, aad)
        return ring.current, nonce + sealed

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        ring = self.ring()
        if version < ring.minimum:
            raise KeyVersionRetired(f"master key v{version} is below the minimum decryption "
                                    f"version v{ring.minimum}: run `noderr vault rewrap`")
        if version not in ring.keys:
            raise KeyringError(f"master key v{version} is not in the keyring")
        return open_sealed(ring.keys[version], wrapped[:12], wrapped[12:], aad).reveal()


def load_keyring(path: Path, inline: str | None) -> LocalKeyring:
    """NODERR_VAULT_MASTER_KEYS when set, else the keyring file."""
    return LocalKeyring(text=inline) if inline else LocalKeyring(path=path)


def write_keyring(path: Path, ring: Keyring) -> None:
    """Atomically replace the keyring file, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(ring.dump())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_keyring_file(path: Path) -> Keyring | None:
    if not path.exists():
        return None
    return Keyring.parse(path.read_text(), str(path))

