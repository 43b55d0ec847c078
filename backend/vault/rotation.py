"""Master key rotation in the manner of Vault's transit engine: `rotate` adds a key version
and makes it current (new data keys are wrapped with it at once; running APIs reread the
keyring file); `rewrap` re-encrypts every data key wrapped with an older version, a batch per
transaction, online and resumable (the state is each row's `kek_version`), and never touches
a secret's ciphertext, so no plaintext secret exists during it; `set_min_version` retires
older versions once nothing needs them (and can purge their key material)."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backend.vault import audit, store
from backend.vault.audit import Event
from backend.vault.crypto import new_key
from backend.vault.keys import KeyProvider, Keyring, KeyringError, read_keyring_file, write_keyring


@contextmanager
def keyring_lock(path: Path) -> Iterator[None]:
    """One keyring writer at a time (an advisory lock beside the file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def next_ring(ring: Keyring | None) -> Keyring:
    """`ring` plus a new random version that becomes current (version 1 for no ring)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if ring is None:
        return Keyring(1, 1, {1: new_key()}, {1: now})
    version = max(ring.keys) + 1
    return Keyring(version, ring.minimum, {**ring.keys, version: new_key()},
                   {**ring.created, version: now})


async def rotate(db: Any, path: Path, actor: str, request_id: str) -> int:
    """Add a master key version to the keyring file and make it current; the new version."""
    with keyring_lock(path):
        ring = next_ring(read_keyring_file(path))
        async with db.transaction() as conn:
            await audit.append(conn, Event(actor, "rotate", "ok", request_id, None, None,
                                           f"master key v{ring.current} is current"))
            write_keyring(path, ring)
    return ring.current


async def set_min_version(db: Any, path: Path, minimum: int, purge: bool, actor: str,
                          request_id: str) -> Keyring:
    """Retire versions below `minimum` (refused while a data key still uses one)."""
    with keyring_lock(path):
        ring = read_keyring_file(path)
        if ring is None:
            raise KeyringError(f"no vault keyring at {path}")
        async with db.transaction() as conn:
            below = sum(n for v, n in (await store.version_counts(conn)).items() if v < minimum)
            if below:
                raise KeyringError(f"{below} data keys are still wrapped with versions below "
                                   f"v{minimum}: run `noderr vault rewrap` first")
            updated = _retire(ring, minimum, purge, str(path))
            await audit.append(conn, Event(actor, "min_version", "ok", request_id, None, None,
                                           f"minimum decryption version v{minimum}"
                                           f"{', older key material purged' if purge else ''}"))
            write_keyring(path, updated)
    return updated


def _retire(ring: Keyring, minimum: int, purge: bool, source: str) -> Keyring:
    keys = {v: k for v, k in ring.keys.items() if v >= minimum or not purge}
    updated = replace(ring, minimum=minimum, keys=keys,
                      created={v: c for v, c in ring.created.items() if v in keys})
    updated.check(source)
    return updated


@dataclass
class RewrapResult:
    rewrapped: int
    target: int
    batches: int


async def rewrap(db: Any, keys: KeyProvider, batch: int, actor: str, request_id: str,
                 progress: Callable[[int], None] | None = None) -> RewrapResult:
    """Rewrap every data key below the current version; a crash loses nothing, a rerun
    finishes the job (each batch commits with its audit entry or not at all)."""
    target = keys.current_version()
    result = RewrapResult(0, target, 0)
    while True:
        async with db.transaction() as conn:
            rows = await store.keys_below(conn, target, batch)
            if not rows:
                return result
            for row in rows:
                data_key = keys.unwrap(row["kek_version"], bytes(row["wrapped_key"]),
                                       store.binding_of(row).data_key_aad())
                version, wrapped = keys.wrap(data_key, store.binding_of(row).data_key_aad())
                if version != target:
                    raise KeyringError(f"the current master key changed to v{version} during "
                                       "the rewrap: run it again")
                await store.rewrap_key(conn, row["id"], version, wrapped)
            await audit.append(conn, Event(actor, "rewrap", "ok", request_id, None, None,
                                           f"{len(rows)} data keys to v{target}"))
        result.rewrapped += len(rows)
        result.batches += 1
        if progress:
            progress(result.rewrapped)
