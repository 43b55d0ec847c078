"""SIWE sign-in: the happy path, sessions, and one test per bad input (each a specific 4xx)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from tests.backend.helpers import sign_in
from tests.backend.siwe_helpers import KEYS, ago, sign, siwe_text

ALICE = KEYS[1].address


def nonce(client) -> str:
    return client.get("/auth/nonce").json()["nonce"]


def verify(client, text, signature):
    return client.post("/auth/verify", json={"message": text, "signature": signature})


def test_nonce__random_and_long_enough(client):
    nonces = {nonce(client) for _ in range(5)}
    assert len(nonces) == 5
    assert all(len(n) == 32 and n.isalnum() for n in nonces)  # 128 bits of hex


def test_verify__valid_message__session_cookie_and_bearer(client):
    text = siwe_text(ALICE, nonce(client))
    response = verify(client, text, sign(text, 1))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["address"] == ALICE
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json()["address"] == ALICE
    client.cookies.clear()
    client.cookies.set("noderr_session", body["token"])
    assert client.get("/auth/me").json()["address"] == ALICE


def test_session__token_stored_hashed(client, db):
    token = sign_in(client, 1)
    stored = db.execute("SELECT token_hash FROM sessions").fetchone()[0]
    assert token.encode() not in bytes(stored) and len(stored) == 32


def test_logout__revokes_server_side(client):
    token = sign_in(client, 1)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/auth/logout", headers=headers).status_code == 204
    response = client.get("/auth/me", headers=headers)
    assert response.status_code == 401
    assert "expired or revoked" in response.json()["detail"]


def test_session__expired__401(client, db):
    token = sign_in(client, 1)
    db.execute("UPDATE sessions SET expires_at = now() - interval '1 second'")
    response = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_me__no_session__401(client):
    response = client.get("/auth/me")
    assert response.status_code == 401 and "sign in first" in response.json()["detail"]


def test_me__bad_authorization_scheme__401(client):
    response = client.get("/auth/me", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401 and "Bearer" in response.json()["detail"]


def assert_rejected(response, status, words, caplog=None):
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    if caplog is not None:
        assert any("rejected" in r.getMessage() and words in r.getMessage()
                   for r in caplog.records)


def test_verify__replayed_nonce__401(client, caplog):
    caplog.set_level(logging.INFO, "noderr.backend.auth")
    text = siwe_text(ALICE, nonce(client))
    assert verify(client, text, sign(text, 1)).status_code == 200
    assert_rejected(verify(client, text, sign(text, 1)), 401, "nonce already used", caplog)


def test_verify__failed_attempt_burns_the_nonce(client):
    value = nonce(client)
    text = siwe_text(ALICE, value)
    assert verify(client, text, sign(text, 2)).status_code == 401
    assert_rejected(verify(client, text, sign(text, 1)), 401, "nonce already used")


def test_verify__unknown_nonce__401(client, caplog):
    text = siwe_text(ALICE, "a" * 32)
    assert_rejected(verify(client, text, sign(text, 1)), 401, "unknown nonce", caplog)


def test_verify__expired_nonce__401(client, db):
    value = nonce(client)
    db.execute("UPDATE siwe_nonces SET expires_at = now() - interval '1 second'")
    text = siwe_text(ALICE, value)
    assert_rejected(verify(client, text, sign(text, 1)), 401, "nonce expired")


@pytest.mark.parametrize(("changes", "words"), [
    ({"expiration": ago(1)}, "message expired"),
    ({"not_before": ago(-3600)}, "not yet valid"),
    ({"issued_at": ago(-3600)}, "issued-at is in the future"),
    ({"issued_at": ago(3600)}, "issued-at is too old"),
    ({"domain": "evil.example"}, "domain 'evil.example' is not accepted"),
    ({"uri": "http://evil.example"}, "does not match the origin"),
    ({"uri": "https://127.0.0.1:8000"}, "does not match the origin"),
    ({"chain_id": 1}, "chain id 1 is not this deployment's chain id 31337"),
    ({"statement": "Give me your tokens."}, "statement must be exactly"),
], ids=["expired", "not-yet-valid", "issued-in-future", "issued-too-long-ago", "wrong-domain",
        "wrong-uri", "wrong-uri-scheme", "wrong-chain", "wrong-statement"])
def test_verify__bad_field__401(client, caplog, changes, words):
    text = siwe_text(ALICE, nonce(client), **changes)
    assert_rejected(verify(client, text, sign(text, 1)), 401, words, caplog)


def test_verify__issued_at_within_skew__accepted(client):
    text = siwe_text(ALICE, nonce(client), issued_at=ago(-30))
    assert verify(client, text, sign(text, 1)).status_code == 200


def test_verify__unsupported_version__400(client):
    text = siwe_text(ALICE, nonce(client), version="2")
    assert_rejected(verify(client, text, sign(text, 1)), 400, "malformed SIWE message")


def test_verify__lowercase_address__400(client):
    text = siwe_text(ALICE.lower(), nonce(client))
    assert_rejected(verify(client, text, sign(text, 1)), 400, "EIP-55")


@pytest.mark.parametrize("text", ["", "hello", "x wants you to sign in with your Ethereum "
                                  "account:\n0xnothex\n"])
def test_verify__malformed_message__400(client, caplog, text):
    assert_rejected(verify(client, text, "0x" + "11" * 65), 400, "malformed SIWE message",
                    caplog)


def test_verify__someone_elses_signature__401(client, caplog):
    text = siwe_text(ALICE, nonce(client))
    assert_rejected(verify(client, text, sign(text, 2)), 401, f"signature is not by {ALICE}",
                    caplog)


def test_verify__signature_of_other_text__401(client):
    text = siwe_text(ALICE, nonce(client))
    other = text.replace("Sign in to Noderr.", "Sign in to Noderr!")
    assert_rejected(verify(client, text, sign(other, 1)), 401, "signature is not by")


def test_verify__re_serialised_text_is_not_the_signed_text__401(client):
    """The exact text is verified: a signature over a variant with other whitespace fails."""
    text = siwe_text(ALICE, nonce(client))
    assert_rejected(verify(client, text, sign(text + "\n", 1)), 401, "signature is not by")


@pytest.mark.parametrize(("signature", "status", "words"), [
    ("0x" + "00" * 65, 401, "signature is not by"),
    ("0x" + "ff" * 65, 401, "signature is not by"),
    ("0x1234", 401, "signature is not by"),
    ("0xzz", 400, "not valid hex"),
    ("deadbeef", 400, "0x-prefixed"),
    ("0x", 400, "empty"),
], ids=["zeros", "ones", "short", "not-hex", "no-prefix", "empty"])
def test_verify__garbage_signature__4xx(client, caplog, signature, status, words):
    text = siwe_text(ALICE, nonce(client))
    assert_rejected(verify(client, text, signature), status, words, caplog)


def test_verify__oversized_body__413(client):
    response = client.post("/auth/verify", content=b"{" + b" " * 70000 + b"}",
                           headers={"content-type": "application/json"})
    assert response.status_code == 413 and "request body over" in response.json()["detail"]


def test_verify__missing_fields__422(client):
    response = client.post("/auth/verify", json={"message": "x"})
    assert response.status_code == 422 and "signature" in response.json()["detail"]


def test_verify__oversized_message__422(client):
    response = client.post("/auth/verify", json={"message": "x" * 5000, "signature": "0x"})
    assert response.status_code == 422 and "message" in response.json()["detail"]


def test_nonce__ttl_from_configuration(client):
    assert client.get("/auth/nonce").json()["expires_in"] == int(timedelta(minutes=5).seconds)
