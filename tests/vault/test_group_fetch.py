"""Vault reads fetched in groups (backend/vault/store.py:GroupFetch) against the real
database: concurrent reads share a query yet each gets its own answer, a read still sees what
was committed before it arrived, and a batch that cannot be fetched refuses every one of its
reads, audited, without a value."""

from __future__ import annotations

import asyncio

from backend.database import Database
from backend.vault import store
from backend.vault.crypto import TokenBinding
from tests.vault.helpers import CREDENTIALS, MARKER, OPERATOR_INDEX, audit_rows

CONCURRENT = 200
CONTRACT = "0x" + "ab" * 20
OWNER = "0x" + "cd" * 20
TOKENS = (1, 2, 3)
NAMES = ("binance", "kraken", "absent")
VERSIONS = (None, 1, 2, 3)


def binding(token_id: int) -> TokenBinding:
    return TokenBinding(31337, CONTRACT, token_id, OWNER)


def store_rows(db) -> None:
    """Tokens 1 and 2 have data keys; token 1 holds binance v1-v2, token 2 kraken v1."""
    for token_id, secrets in ((1, (("binance", 1), ("binance", 2))), (2, (("kraken", 1),))):
        key_id = db.execute(
            "INSERT INTO vault_data_keys (chain_id, contract_address, token_id, owner,"
            " kek_version, wrapped_key) VALUES (31337, %s, %s, %s, 1, %s) RETURNING id",
            (CONTRACT, token_id, OWNER, bytes([token_id]) * 40)).fetchone()[0]
        for name, version in secrets:
            db.execute("INSERT INTO vault_secrets (data_key_id, name, version, nonce, ciphertext,"
                       " created_by) VALUES (%s, %s, %s, %s, %s, %s)",
                       (key_id, name, version, bytes(12), f"{token_id}/{name}/{version}".encode(),
                        OWNER))


def questions() -> list[store.Wanted]:
    combos = [(binding(t), n, v) for t in TOKENS for n in NAMES for v in VERSIONS]
    return [combos[i % len(combos)] for i in range(CONCURRENT)]


def summary(found: store.Found) -> tuple:
    key, secret = found
    return (key and int(key["token_id"]), secret and bytes(secret["ciphertext"]),
            secret and secret["version"])


async def fetch_concurrently(url: str, wanted: list[store.Wanted]) -> list[store.Found]:
    async with Database(url, size=4) as db:
        return await asyncio.gather(*(store.fetch_key_and_secret(db, *item) for item in wanted))


async def fetch_one_by_one(url: str, wanted: list[store.Wanted]) -> list[store.Found]:
    async with Database(url, size=1) as db, db.connection() as conn:
        return [(await store.fetch_keys_and_secrets(conn, [item]))[0] for item in wanted]


def test_concurrent_reads__fetched_in_batches__each_its_own_answer(database_url, db,
                                                                  fetch_batches):
    store_rows(db)
    wanted = questions()
    together = asyncio.run(fetch_concurrently(database_url, wanted))
    alone = asyncio.run(fetch_one_by_one(database_url, wanted))
    assert [summary(found) for found in together] == [summary(found) for found in alone]
    assert summary(together[0]) == (1, b"1/binance/2", 2)  # token 1, binance, latest
    assert sum(fetch_batches) == CONCURRENT
    assert len(fetch_batches) < CONCURRENT / 4, f"{len(fetch_batches)} queries"


def test_read__sees_a_write_another_process_committed(api, make_vault_client):
    token = api.license(OPERATOR_INDEX)
    assert api.put(OPERATOR_INDEX, token, "binance", CREDENTIALS).status_code == 200
    assert api.get(OPERATOR_INDEX, token, "binance").json()["version"] == 1
    other = make_vault_client()
    changed = other.put(api.url(token, "binance"), json={"data": {"api_key": "rotated"}},
                        headers=api.login(OPERATOR_INDEX))
    assert changed.status_code == 200 and changed.json()["version"] == 2
    read = api.get(OPERATOR_INDEX, token, "binance").json()
    assert (read["version"], read["data"]) == (2, {"api_key": "rotated"})
    assert other.delete(api.url(token, "binance"),
                        headers=api.login(OPERATOR_INDEX)).status_code == 200
    assert api.get(OPERATOR_INDEX, token, "binance").status_code == 404


def test_fetch_fails__read_refused__failure_audited__value_not_returned(api, db, fetch_breaks):
    token = api.license(OPERATOR_INDEX)
    assert api.put(OPERATOR_INDEX, token, "binance", CREDENTIALS).status_code == 200
    fetch_breaks()
    read = api.get(OPERATOR_INDEX, token, "binance")
    assert read.status_code == 503 and "vault database error" in read.json()["detail"]
    assert MARKER not in read.text
    assert [(row["action"], row["outcome"]) for row in audit_rows(db)] == [
        ("write", "ok"), ("read", "error")]
