"""The server secret that session-token digests are keyed with (HMAC-SHA256), kept in a file
outside the database so that write access to the `sessions` table alone cannot mint a session:
a row whose digest was computed without this key matches no token.

The file (NODERR_SESSION_KEY_FILE, default <NODERR_DATA_DIR>/session-key) is created on first
start, mode 0600, holding 32 random bytes in hex. Every API worker must use the same key:
the first process to start writes it under a temporary name and links it into place
(`os.link` fails if the name exists, like O_EXCL), so workers starting together end up
reading one key, never two and never a half-written file. Rotation: stop the API, delete
the file, start the API; a new key is created and every session ends (their digests no
longer match), so everyone signs in again."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_BYTES = 32


class SessionKeyError(Exception):
    """The key file cannot be used; the message names the file and what to do."""


class SessionKey:
    """Computes a session token's digest: what the `sessions` table stores and is looked up by."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < KEY_BYTES:
            raise SessionKeyError(f"a session key needs at least {KEY_BYTES} bytes")
        self._secret = secret

    def digest(self, token: str) -> bytes:
        return hmac.new(self._secret, token.encode(), hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "SessionKey(<redacted>)"


def load_or_create(path: Path) -> SessionKey:
    """The key in `path`, created there first if there is none."""
    if not path.exists():
        _create(path)
    return _read(path)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(KEY_BYTES) + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process created it first: everyone uses that one
    finally:
        temporary.unlink(missing_ok=True)


def _read(path: Path) -> SessionKey:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise SessionKeyError(f"session key file {path} is readable by others (mode "
                              f"{mode:o}): chmod 600 it")
    try:
        return SessionKey(bytes.fromhex(path.read_text().strip()))
    except (ValueError, SessionKeyError):
        raise SessionKeyError(f"session key file {path} does not hold {KEY_BYTES} or more "
                              "bytes in hex: delete it to create a new one (every session "
                              "ends)") from None
