"""`noderr vault ...`: rotate, set-min-version, rewrap, verify-audit, key-versions, shred.
Registered in noderr_cli/main.py; imports are lazy; every error is one line, exit 1."""

from __future__ import annotations

import asyncio
import getpass
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from noderr.console import fail

vault_app = typer.Typer(help="The credentials vault: master keys, rewrap, audit log.",
                        no_args_is_help=True)
T = TypeVar("T")



def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _run(job: Callable[[Any], Awaitable[T]]) -> T:
    """Run `job(db)` against the configured database; known failures become one line."""
    import psycopg

    from backend.database import Database
    from backend.vault.audit import AuditUnavailable
    from backend.vault.crypto import DecryptionFailed
    from backend.vault.keys import KeyringError
    from noderr.db import DatabaseError, database_url
    from noderr.migrate import require_current

    async def main() -> T:
        async with Database(database_url(), size=2) as db:
            return await job(db)

    try:
        require_current(database_url())
        return asyncio.run(main())
    except (DatabaseError, KeyringError, AuditUnavailable, OSError) as error:
        raise fail(str(error)) from None
    except DecryptionFailed:
        raise fail("a data key failed its integrity check (altered, or wrapped by a key "
                    "that is not in the keyring)") from None
    except psycopg.Error as error:
        raise fail(f"database error: {type(error).__name__}: {error}".splitlines()[0]) from None


def _settings():
    from pydantic import ValidationError

    from backend.vault.settings import VaultSettings

    try:
        return VaultSettings()
    except ValidationError as error:
        raise fail(f"bad NODERR_VAULT_* setting: {error}".splitlines()[0]) from None


def _keyring_file() -> Path:
    settings = _settings()
    if settings.master_keys is not None:
        raise fail("NODERR_VAULT_MASTER_KEYS is set: rotation edits the keyring file; unset "
                    "it and use NODERR_VAULT_KEY_FILE")
    return settings.keyring_path()


@vault_app.command()
def rotate() -> None:
    """Add a master key version and make it current (creates the keyring the first time)."""
    from backend.vault.rotation import rotate as rotate_keys

    path = _keyring_file()
    version = _run(lambda db: rotate_keys(db, path, _actor(), uuid.uuid4().hex))
    typer.echo(f"master key v{version} is current ({path}); run `noderr vault rewrap` to "
               "rewrap existing data keys")


@vault_app.command("set-min-version")
def set_min_version(
    version: Annotated[int, typer.Argument(min=1, help="The minimum decryption version.")],
    purge: Annotated[bool, typer.Option(help="Delete the key material of older versions.")]
    = False,
) -> None:
    """Refuse to decrypt with versions below VERSION (after a complete rewrap)."""
    from backend.vault.rotation import set_min_version as retire

    path = _keyring_file()
    ring = _run(lambda db: retire(db, path, version, purge, _actor(), uuid.uuid4().hex))
    typer.echo(f"minimum decryption version v{ring.minimum}; versions kept: "
               f"{', '.join(f'v{v}' for v in sorted(ring.keys))}")


@vault_app.command()
def rewrap(
    batch: Annotated[int | None, typer.Option(min=1, help="Data keys per transaction "
                                              "[env NODERR_VAULT_REWRAP_BATCH].")] = None,
) -> None:
    """Rewrap every data key with the current master key, online; safe to rerun."""
    from backend.vault.rotation import rewrap as rewrap_keys
    from backend.vault.service import Vault, VaultError

    vault = Vault(_settings())
    try:
        keys = vault.provider()
    except VaultError as error:
        raise fail(error.message) from None
    size = batch or vault.settings.rewrap_batch
    result = _run(lambda db: rewrap_keys(db, keys, size, _actor(), uuid.uuid4().hex,
                                         lambda n: typer.echo(f"  {n} rewrapped")))
    typer.echo(f"{result.rewrapped} data keys rewrapped to v{result.target} "
               f"in {result.batches} batches; none left below v{result.target}")


@vault_app.command("verify-audit")
def verify_audit(
    anchor: Annotated[str | None, typer.Option(
        help="SEQ:HASH of a head recorded earlier; a log that lost it fails.")] = None,
    file: Annotated[Path | None, typer.Option(
        help="Verify an export (GET /vault/audit/export) instead of the database.")] = None,
) -> None:
    """Exit 0 when the audit hash chain is intact; otherwise name the first bad entry."""
    from backend.vault import audit

    expected = _anchor(anchor) if anchor else None
    if file is not None:
        verdict = audit.verify(_exported(file), anchor=expected)
    else:
        verdict = _run(lambda db: _verify_db(db, expected))
    if not verdict.intact:
        raise fail(f"audit log broken at entry {verdict.bad_seq}: {verdict.reason}")
    typer.echo(f"audit log intact: {verdict.entries} entries, head "
               f"{verdict.head_seq}:{verdict.head_hash.hex()}")


def _anchor(text: str) -> tuple[int, bytes]:
    seq, _, digest = text.partition(":")
    try:
        return int(seq), bytes.fromhex(digest)
    except ValueError:
        raise fail("--anchor must be SEQ:HEXHASH") from None


def _exported(path: Path) -> list[dict[str, Any]]:
    from backend.vault.audit import from_public

    try:
        return [from_public(json.loads(line)) for line in path.read_text().splitlines()
                if line.strip()]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise fail(f"cannot read the export {path}: {type(error).__name__}") from None


async def _verify_db(db: Any, anchor: tuple[int, bytes] | None):
    from backend.vault import audit

    async with db.connection() as conn:
        head = await audit.head(conn)
        entries = [entry async for entry in audit.stream(conn)]
    return audit.verify(entries, head=head, anchor=anchor)


@vault_app.command("key-versions")
def key_versions() -> None:
    """Master key versions: current, minimum decryption version, data keys per version."""
    from backend.vault import store
    from backend.vault.service import Vault, VaultError

    try:
        keys = Vault(_settings()).provider()
    except VaultError as error:
        raise fail(error.message) from None

    async def counts(db: Any) -> dict[int, int]:
        async with db.connection() as conn:
            return await store.version_counts(conn)

    used = _run(counts)
    current, minimum = keys.current_version(), keys.min_decryption_version()
    typer.echo(f"{'version':>7}  {'state':<8} {'data keys':>9}  created")
    for item in keys.versions():
        state = ("current" if item.version == current
                 else "retired" if item.version < minimum else "active")
        typer.echo(f"{item.version:>7}  {state:<8} {used.get(item.version, 0):>9}  "
                   f"{item.created_at}")
    typer.echo(f"minimum decryption version: v{minimum}")


@vault_app.command()
def shred(
    rpc_url: Annotated[str | None, typer.Option(help="JSON-RPC URL [env NODERR_RPC_URL].")]
    = None,
    deployment: Annotated[Path | None, typer.Option(help="Deployment file.")] = None,
) -> None:
    """Destroy the data keys of licenses the mirror shows revoked or reassigned (the API
    also does it every NODERR_VAULT_SHRED_INTERVAL seconds)."""
    from backend.vault.service import sweep
    from noderr.service_context import load_service_context

    loaded = load_service_context(rpc_url, deployment).deployment
    contract = loaded.contracts["NodeLicense"].address
    count = _run(lambda db: sweep(db, loaded.chain_id, contract, uuid.uuid4().hex))
    typer.echo(f"{count} data keys destroyed")
