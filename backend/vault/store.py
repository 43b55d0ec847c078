"""SQL over the vault tables (async psycopg, dict rows); no cryptography here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg

from backend.vault.batching import Batcher, batcher
from backend.vault.crypto import TokenBinding

Row = dict[str, Any]
KEY_COLUMNS = "id, chain_id, contract_address, token_id, owner, kek_version, wrapped_key"
TOKEN_WHERE = "chain_id = %s AND contract_address = %s AND token_id = %s"  # noqa: S105


def token_params(binding: TokenBinding) -> tuple[int, str, int]:
    return binding.chain_id, binding.contract.lower(), binding.token_id


def binding_of(row: Row) -> TokenBinding:
    return TokenBinding(row["chain_id"], row["contract_address"], int(row["token_id"]),
                        row["owner"])


async def fetch_data_key(conn: psycopg.AsyncConnection, binding: TokenBinding,
                         lock: bool = False) -> Row | None:
    suffix = " FOR UPDATE" if lock else ""
    cursor = await conn.execute(
        f"SELECT {KEY_COLUMNS} FROM vault_data_keys WHERE {TOKEN_WHERE}{suffix}",  # noqa: S608
        token_params(binding))
    return await cursor.fetchone()


async def insert_data_key(conn: psycopg.AsyncConnection, binding: TokenBinding,
                          kek_version: int, wrapped: bytes) -> None:
    await conn.execute(
        "INSERT INTO vault_data_keys (chain_id, contract_address, token_id, owner, kek_version,"
        " wrapped_key) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (*token_params(binding), binding.owner.lower(), kek_version, wrapped))


async def delete_data_key(conn: psycopg.AsyncConnection, key_id: int) -> int:
    """Destroy a data key and, by cascade, every secret it sealed; the secrets destroyed."""
    cursor = await conn.execute("SELECT count(*) AS n FROM vault_secrets WHERE data_key_id = %s",
                                (key_id,))
    count = (await cursor.fetchone())["n"]
    await conn.execute("DELETE FROM vault_data_keys WHERE id = %s", (key_id,))
    return int(count)


Wanted = tuple[TokenBinding, str, int | None]
"""A read's question: the token, the secret's name, and its version (None: the latest)."""
Found = tuple[Row | None, Row | None]
"""Its answer: the token's data key (None: no key) and that version (None: no such secret)."""

KEYS_AND_SECRETS = (
    f"SELECT {', '.join('k.' + c for c in KEY_COLUMNS.split(', '))},"  # noqa: S608
    " s.version AS secret_version, s.nonce, s.ciphertext, s.created_at AS secret_created_at,"
    " s.created_by FROM unnest(%s::int[], %s::text[], %s::numeric[], %s::text[], %s::int[])"
    " WITH ORDINALITY AS q(chain_id, contract_address, token_id, name, version, i)"
    " LEFT JOIN vault_data_keys k ON k.chain_id = q.chain_id"
    " AND k.contract_address = q.contract_address AND k.token_id = q.token_id"
    " LEFT JOIN LATERAL (SELECT version, nonce, ciphertext, created_at, created_by"
    " FROM vault_secrets WHERE data_key_id = k.id AND name = q.name"
    " AND (q.version IS NULL OR version = q.version) ORDER BY version DESC LIMIT 1) s ON true"
    " ORDER BY q.i")


async def fetch_keys_and_secrets(conn: psycopg.AsyncConnection,
                                 wanted: list[Wanted]) -> list[Found]:
    """For each read, the token's data key and the latest (or given) version of the secret,
    all in one round trip."""
    columns = [[binding.chain_id for binding, _, _ in wanted],
               [binding.contract.lower() for binding, _, _ in wanted],
               [Decimal(binding.token_id) for binding, _, _ in wanted],
               [name for _, name, _ in wanted], [version for _, _, version in wanted]]
    cursor = await conn.execute(KEYS_AND_SECRETS, columns)
    return [_found(row, name) for row, (_, name, _) in zip(await cursor.fetchall(), wanted,
                                                           strict=True)]


def _found(row: Row, name: str) -> Found:
    if row["id"] is None:
        return None, None
    key = {column: row[column] for column in KEY_COLUMNS.split(", ")}
    if row["secret_version"] is None:
        return key, None
    return key, {"name": name, "version": row["secret_version"], "nonce": row["nonce"],
                 "ciphertext": row["ciphertext"], "created_at": row["secret_created_at"],
                 "created_by": row["created_by"]}


class GroupFetch(Batcher[Wanted, Found]):
    """Vault reads fetched together: one query per batch of concurrent reads instead of one
    each. Each read still sees what was committed after it arrived (its batch's query starts
    later), so nothing is served from memory."""

    async def handle(self, wanted: list[Wanted]) -> list[Found]:
        async with self.db.connection() as conn:
            return await fetch_keys_and_secrets(conn, wanted)

    def failure(self, error: BaseException) -> Exception:
        return FetchFailed(f"vault database error ({type(error).__name__}): nothing was "
                           "changed, try again")

    def expected(self, error: BaseException) -> bool:
        return isinstance(error, psycopg.Error)


class FetchFailed(Exception):
    """A batch of reads could not be fetched."""


async def fetch_key_and_secret(db: Any, binding: TokenBinding, name: str,
                               version: int | None) -> Found:
    """The token's data key and the latest (or given) version of its secret `name`, through
    the group fetch (a read's whole database work before its audit entry). Raises
    FetchFailed."""
    return await batcher(GroupFetch, db).submit((binding, name, version))


async def next_version(conn: psycopg.AsyncConnection, key_id: int, name: str) -> int:
    cursor = await conn.execute("SELECT coalesce(max(version), 0) + 1 AS v FROM vault_secrets"
                                " WHERE data_key_id = %s AND name = %s", (key_id, name))
    return int((await cursor.fetchone())["v"])


async def insert_secret(conn: psycopg.AsyncConnection, key_id: int, name: str, version: int,
                        nonce: bytes, ciphertext: bytes, actor: str) -> Row:
    cursor = await conn.execute(
        "INSERT INTO vault_secrets (data_key_id, name, version, nonce, ciphertext, created_by)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING name, version, created_at",
        (key_id, name, version, nonce, ciphertext, actor))
    row = await cursor.fetchone()
    assert row is not None
    return row


async def delete_secret(conn: psycopg.AsyncConnection, key_id: int, name: str) -> int:
    cursor = await conn.execute(
        "DELETE FROM vault_secrets WHERE data_key_id = %s AND name = %s RETURNING version",
        (key_id, name))
    return len(await cursor.fetchall())


async def list_secrets(conn: psycopg.AsyncConnection, key_id: int) -> list[Row]:
    cursor = await conn.execute(
        "SELECT name, max(version) AS latest_version, count(*) AS versions,"
        " min(created_at) AS created_at, max(created_at) AS updated_at FROM vault_secrets"
        " WHERE data_key_id = %s GROUP BY name ORDER BY name", (key_id,))
    return await cursor.fetchall()


async def keys_below(conn: psycopg.AsyncConnection, version: int, batch: int) -> list[Row]:
    cursor = await conn.execute(
        f"SELECT {KEY_COLUMNS} FROM vault_data_keys WHERE kek_version < %s"  # noqa: S608
        " ORDER BY id LIMIT %s FOR UPDATE", (version, batch))
    return await cursor.fetchall()


async def rewrap_key(conn: psycopg.AsyncConnection, key_id: int, version: int,
                     wrapped: bytes) -> None:
    await conn.execute("UPDATE vault_data_keys SET kek_version = %s, wrapped_key = %s,"
                       " rewrapped_at = now() WHERE id = %s", (version, wrapped, key_id))


async def version_counts(conn: psycopg.AsyncConnection) -> dict[int, int]:
    cursor = await conn.execute(
        "SELECT kek_version AS v, count(*) AS n FROM vault_data_keys GROUP BY kek_version")
    return {int(row["v"]): int(row["n"]) for row in await cursor.fetchall()}
