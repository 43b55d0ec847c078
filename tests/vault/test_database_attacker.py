"""An attacker who can write to the database, and nothing else: it cannot mint a session.

Session rows store an HMAC-SHA256 of the token under the server's session key, a file outside
the database; a row whose digest the attacker computed without that key matches no token."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tests.vault.helpers import CREDENTIALS, MARKER, ORACLE, address

OPERATOR = 1
CHOSEN_TOKEN = "attacker-chosen-token-0123456789abcdef"  # noqa: S105 - what the attacker sends


def forge_sha256(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def forge_hmac_guessed_key(token: str) -> bytes:
    return hmac.new(b"\0" * 32, token.encode(), hashlib.sha256).digest()


def forge_hmac_token_as_key(token: str) -> bytes:
    return hmac.new(token.encode(), token.encode(), hashlib.sha256).digest()


def insert_session(db, digest: bytes, owner: str) -> None:
    db.execute("INSERT INTO sessions (token_hash, address, expires_at) "
               "VALUES (%s, %s, now() + interval '1 hour')", (digest, owner))


def refused_everywhere(api, token_id: int, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for path in (api.url(token_id, "binance"), api.url(token_id), "/nodes/oracle/access",
                 "/nodes/me", "/auth/me"):
        response = api.client.get(path, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert MARKER not in response.text


@pytest.mark.parametrize("forge", [forge_sha256, forge_hmac_guessed_key,
                                   forge_hmac_token_as_key],
                         ids=["sha256", "hmac-guessed-key", "hmac-token-as-key"])
def test_inserted_session_row__401_from_vault_and_gates(api, db, forge):
    token_id = api.license(OPERATOR, ORACLE)
    assert api.put(OPERATOR, token_id, "binance", CREDENTIALS).status_code == 200
    insert_session(db, forge(CHOSEN_TOKEN), address(OPERATOR))
    refused_everywhere(api, token_id, CHOSEN_TOKEN)
    assert api.get(OPERATOR, token_id, "binance").json()["data"] == CREDENTIALS


def test_stolen_digests__useless_as_tokens(api, db):
    token_id = api.license(OPERATOR, ORACLE)
    api.put(OPERATOR, token_id, "binance", CREDENTIALS)
    digests = [bytes(row[0]) for row in db.execute("SELECT token_hash FROM sessions")]
    assert digests
    for digest in digests:
        refused_everywhere(api, token_id, digest.hex())
        insert_session(db, forge_sha256(digest.hex()), address(OPERATOR))
        refused_everywhere(api, token_id, digest.hex())
