"""Vault operations: a change runs in a transaction that also appends its audit entry, so a
change whose entry cannot be written does not happen (fail closed). A read fetches its key and
secret with the reads arriving alongside it (store.GroupFetch: one query per batch), and
returns the value only once its entry is committed through the audit group commit; when the
entry cannot be written the read fails (fail closed).

A data key is destroyed only for a revocation or a change of owner that a reorg can no longer
undo: at least `shred_depth` blocks below the indexed block. Until then the license is
refused (its old owner by the authorization, a new owner with 503 here), not shredded."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from backend import mirror
from backend.vault import audit, store
from backend.vault.audit import AuditUnavailable, Event
from backend.vault.crypto import (
    DecryptionFailed,
    TokenBinding,
    decode_secret,
    encode_secret,
    new_key,
    open_sealed,
    seal,
)
from backend.vault.keys import KeyProvider, KeyringError, KeyVersionRetired, load_keyring
from backend.vault.settings import VaultSettings
from indexer.settings import IndexerSettings
from noderr.settings import LOCAL_CHAIN_ID

log = logging.getLogger("noderr.vault")
Row = dict[str, Any]


class VaultError(Exception):
    """An operation refused or failed; `status` is the HTTP status, the message is safe."""

    def __init__(self, status: int, message: str, outcome: str = "error") -> None:
        super().__init__(message)
        self.status, self.message, self.outcome = status, message, outcome


def shred_depth(chain_id: int) -> int:
    """NODERR_INDEXER_FINALITY_DEPTH, the deepest reorg the indexer handles; on the local
    chain 0 unless set (a dev chain reorgs only when told to)."""
    settings = IndexerSettings()
    if chain_id == LOCAL_CHAIN_ID and "finality_depth" not in settings.model_fields_set:
        return 0
    return settings.finality_depth


class StaleKey(Exception):
    """The token's data key belongs to a previous owner: it must be destroyed."""

    def __init__(self, key_id: int) -> None:
        super().__init__(key_id)
        self.key_id = key_id


@dataclass
class Vault:
    """The key provider (loaded lazily: a keyring created later is picked up) and settings."""

    settings: VaultSettings
    keys: KeyProvider | None = None
    load_error: str = field(default="", repr=False)

    def provider(self) -> KeyProvider:
        if self.keys is None:
            try:
                inline = self.settings.master_keys
                self.keys = load_keyring(self.settings.keyring_path(),
                                         inline.get_secret_value() if inline else None)
            except KeyringError as error:
                raise VaultError(503, f"vault unavailable: {error}") from None
        return self.keys


@dataclass
class Access:
    """An authorized caller acting on one license: `binding.owner` is the caller."""

    db: Any
    vault: Vault
    binding: TokenBinding
    actor: str
    request_id: str

    def event(self, action: str, outcome: str, name: str | None, detail: str = "") -> Event:
        return Event(self.actor, action, outcome, self.request_id, self.binding.token_id,
                     name, detail)


Body = Callable[[psycopg.AsyncConnection], Awaitable[tuple[Any, str]]]
Read = Callable[[], Awaitable[tuple[Any, str]]]


async def run(access: Access, action: str, name: str | None, body: Body) -> Any:
    """`body` and its audit entry in one transaction (changes). A refusal or failure is
    audited alone."""

    async def attempt() -> Any:
        async with access.db.transaction() as conn:
            result, detail = await body(conn)
            await audit.append(conn, access.event(action, "ok", name, detail))
        return result

    return await _audited(access, action, name, attempt)


async def run_read(access: Access, action: str, name: str | None, read: Read) -> Any:
    """`read`, then its audit entry through the group commit, committed before the result
    is returned (reads). A refusal or failure is audited alone."""

    async def attempt() -> Any:
        result, detail = await read()
        await audit.record(access.db, access.event(action, "ok", name, detail))
        return result

    return await _audited(access, action, name, attempt)


async def _audited(access: Access, action: str, name: str | None,
                   attempt: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await attempt()
    except StaleKey as stale:
        error = await _shred_if_final(access, stale.key_id, name)
    except VaultError as refused:
        error = refused
    except DecryptionFailed:
        error = VaultError(500, f"integrity check failed on license {access.binding.token_id}"
                                f"{f' secret {name!r}' if name else ''}: the stored ciphertext "
                                "or data key was altered, moved or wrapped by another key")
    except KeyVersionRetired as retired:
        error = VaultError(503, f"vault unavailable: {retired}")
    except KeyringError as bad_key:
        error = VaultError(503, f"vault unavailable: {bad_key}")
    except AuditUnavailable as audit_error:
        raise VaultError(503, f"vault audit log unavailable, operation refused: {audit_error}"
                         ) from None
    except psycopg.Error as db_error:
        error = VaultError(503, f"vault database error ({type(db_error).__name__}): "
                                "nothing was changed, try again")
    except store.FetchFailed as failed:
        error = VaultError(503, str(failed))
    await _record_failure(access, action, name, error)
    raise error


async def _shred_if_final(access: Access, key_id: int, name: str | None) -> VaultError:
    """The new owner's answer about the previous owner's key: shredded once final (404)."""
    async with access.db.connection() as conn:
        await _require_final_change(conn, access)
    await shred(access.db, key_id, access.binding.token_id, "license reassigned", access.actor,
                access.request_id)
    return VaultError(404, f"no secret {name!r} on license {access.binding.token_id}"
                      if name else "no secrets", "not_found")


async def _require_final_change(conn: psycopg.AsyncConnection, access: Access) -> None:
    binding, depth = access.binding, shred_depth(access.binding.chain_id)
    if not await mirror.license_change_final(conn, binding.chain_id, binding.contract,
                                             binding.token_id, depth):
        raise VaultError(503, f"license {binding.token_id} changed owner less than {depth} "
                              "blocks ago (NODERR_INDEXER_FINALITY_DEPTH): its vault opens once "
                              "the change is final, try again later")


async def _record_failure(access: Access, action: str, name: str | None,
                          error: VaultError) -> None:
    try:
        await audit.record(access.db, access.event(action, error.outcome, name, error.message))
    except AuditUnavailable as audit_error:
        raise VaultError(503, f"vault audit log unavailable, operation refused: {audit_error}"
                         ) from None


def _unwrap(keys: KeyProvider, row: Row) -> bytes:
    return keys.unwrap(row["kek_version"], bytes(row["wrapped_key"]),
                       store.binding_of(row).data_key_aad())


async def _own_key(conn: psycopg.AsyncConnection, access: Access, lock: bool) -> Row | None:
    row = await store.fetch_data_key(conn, access.binding, lock=lock)
    if row is not None and row["owner"] != access.binding.owner.lower():
        raise StaleKey(row["id"])
    return row


async def _create_key(conn: psycopg.AsyncConnection, access: Access) -> Row:
    version, wrapped = access.vault.provider().wrap(new_key(), access.binding.data_key_aad())
    await store.insert_data_key(conn, access.binding, version, wrapped)
    row = await store.fetch_data_key(conn, access.binding, lock=True)
    assert row is not None
    return row


async def put_secret(access: Access, name: str, data: dict[str, Any]) -> Row:
    """Store `data` as the next version of `name`; its metadata."""
    plaintext = encode_secret(data)

    async def body(conn: psycopg.AsyncConnection) -> tuple[Row, str]:
        keys = access.vault.provider()
        try:
            row = await _own_key(conn, access, lock=True)
        except StaleKey as stale:
            await _require_final_change(conn, access)
            await _shred_in(conn, access, stale.key_id, "license reassigned")
            row = None
        row = row or await _create_key(conn, access)
        version = await store.next_version(conn, row["id"], name)
        nonce, sealed = seal(_unwrap(keys, row), plaintext,
                             access.binding.secret_aad(name, version))
        meta = await store.insert_secret(conn, row["id"], name, version, nonce, sealed,
                                         access.actor)
        return meta, f"version {version}"

    return await run(access, "write", name, body)


async def get_secret(access: Access, name: str, version: int | None) -> tuple[Row, dict]:
    """The latest (or a given) version of `name`, decrypted."""

    async def read() -> tuple[tuple[Row, dict], str]:
        keys = access.vault.provider()
        row, secret = await store.fetch_key_and_secret(access.db, access.binding, name, version)
        if row is not None and row["owner"] != access.binding.owner.lower():
            raise StaleKey(row["id"])
        if not row or not secret:
            raise _not_found(access, name, version)
        plaintext = open_sealed(await _reading_key(access, keys, row),
                                bytes(secret["nonce"]),
                                bytes(secret["ciphertext"]),
                                access.binding.secret_aad(name, secret["version"]))
        meta = {k: secret[k] for k in ("name", "version", "created_at", "created_by")}
        return (meta, decode_secret(plaintext)), f"version {secret['version']}"

    return await run_read(access, "read", name, read)


async def _reading_key(access: Access, keys: KeyProvider, row: Row) -> bytes:
    """The data key; reread once if a rewrap committed after `row` was read and the minimum
    decryption version has since moved past the version it was read with."""
    try:
        return _unwrap(keys, row)
    except KeyVersionRetired:
        async with access.db.connection() as conn:
            fresh = await _own_key(conn, access, lock=False)
        if fresh is None or fresh["kek_version"] == row["kek_version"]:
            raise
        return _unwrap(keys, fresh)


def _not_found(access: Access, name: str, version: int | None) -> VaultError:
    which = f"version {version} of secret {name!r}" if version else f"secret {name!r}"
    return VaultError(404, f"no {which} on license {access.binding.token_id}", "not_found")


async def list_secrets(access: Access) -> list[Row]:
    """Names and metadata of every secret of the license; never values."""

    async def read() -> tuple[list[Row], str]:
        async with access.db.connection() as conn:
            row = await _own_key(conn, access, lock=False)
            items = await store.list_secrets(conn, row["id"]) if row else []
        return items, f"{len(items)} names"

    return await run_read(access, "list", None, read)


async def delete_secret(access: Access, name: str) -> int:
    """Delete every version of `name`; how many there were."""

    async def body(conn: psycopg.AsyncConnection) -> tuple[int, str]:
        row = await _own_key(conn, access, lock=True)
        deleted = await store.delete_secret(conn, row["id"], name) if row else 0
        if not deleted:
            raise _not_found(access, name, None)
        return deleted, f"{deleted} versions"

    return await run(access, "delete", name, body)


async def _shred_in(conn: psycopg.AsyncConnection, access: Access, key_id: int,
                    reason: str) -> None:
    destroyed = await store.delete_data_key(conn, key_id)
    await audit.append(conn, Event(access.actor, "shred", "ok", access.request_id,
                                   access.binding.token_id, None,
                                   f"{reason}: data key and {destroyed} secret versions "
                                   "destroyed"))


async def shred(db: Any, key_id: int, token_id: int, reason: str, actor: str,
                request_id: str) -> bool:
    """Destroy one data key (and its secrets) with its audit entry; False if already gone."""
    async with db.transaction() as conn:
        cursor = await conn.execute("SELECT 1 FROM vault_data_keys WHERE id = %s FOR UPDATE",
                                    (key_id,))
        if await cursor.fetchone() is None:
            return False
        destroyed = await store.delete_data_key(conn, key_id)
        await audit.append(conn, Event(actor, "shred", "ok", request_id, token_id, None,
                                       f"{reason}: data key and {destroyed} secret versions "
                                       "destroyed"))
    log.info("vault: shredded the data key of license %s (%s)", token_id, reason)
    return True


async def sweep(db: Any, chain_id: int, contract: str, request_id: str) -> int:
    """Destroy every data key whose license the mirror shows revoked or reassigned, by a
    change at least `shred_depth` blocks deep."""
    async with db.connection() as conn:
        stale = await mirror.stale_vault_keys(conn, chain_id, contract, shred_depth(chain_id))
    shredded = 0
    for row in stale:
        reason = "license revoked" if row["status"] == "revoked" else "license reassigned"
        shredded += await shred(db, row["id"], int(row["token_id"]), reason, "system",
                                request_id)
    return shredded
