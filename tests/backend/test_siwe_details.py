"""SIWE details: only low-s signatures (EIP-2), a session that ends by the message's
Expiration Time, and no localhost sign-in origins outside the local chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from typer.testing import CliRunner

from backend.settings import BackendSettings
from backend.siwe_auth import SECP256K1_N
from noderr import service_context
from noderr_cli.main import app as noderr_cli
from tests.backend.siwe_helpers import KEYS, siwe_text

ALICE = KEYS[1]


def nonce(client) -> str:
    return client.get("/auth/nonce").json()["nonce"]


def verify(client, text: str, signature: str):
    return client.post("/auth/verify", json={"message": text, "signature": signature})


def high_s_twin(text: str) -> str:
    """The same signature with s replaced by n - s and v flipped: it recovers to the same
    address (the malleability EIP-2 removed from transactions)."""
    signed = Account.sign_message(encode_defunct(text=text), ALICE.key)
    twin = (signed.r.to_bytes(32, "big") + (SECP256K1_N - signed.s).to_bytes(32, "big")
            + bytes([55 - signed.v]))
    assert Account.recover_message(encode_defunct(text=text), signature=twin) == ALICE.address
    return "0x" + twin.hex()


def test_verify__high_s_signature__401_with_reason(client, db):
    text = siwe_text(ALICE.address, nonce(client))
    response = verify(client, text, high_s_twin(text))
    assert response.status_code == 401, response.text
    assert "high s value" in response.json()["detail"]
    assert "EIP-2" in response.json()["detail"]
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0


def expires_in(response) -> float:
    expires_at = datetime.fromisoformat(response.json()["expires_at"])
    return (expires_at - datetime.now(UTC)).total_seconds()


def cookie_max_age(response) -> int:
    cookie = response.headers["set-cookie"]
    return int(cookie.split("Max-Age=")[1].split(";")[0])


def test_session__ends_at_the_message_expiration_time(client, db):
    expiration = datetime.now(UTC) + timedelta(seconds=120)
    text = siwe_text(ALICE.address, nonce(client), expiration=expiration)
    response = verify(client, text, "0x" + Account.sign_message(
        encode_defunct(text=text), ALICE.key).signature.hex())
    assert response.status_code == 200, response.text
    assert 100 < expires_in(response) <= 120
    assert cookie_max_age(response) <= 120
    stored = db.execute("SELECT expires_at FROM sessions").fetchone()[0]
    assert abs((stored - expiration).total_seconds()) < 1


@pytest.mark.parametrize("expiration", [None, timedelta(days=2)], ids=["none", "after-ttl"])
def test_session__ttl_when_the_message_allows_longer(client, expiration):
    later = datetime.now(UTC) + expiration if expiration else None
    text = siwe_text(ALICE.address, nonce(client), expiration=later)
    response = verify(client, text, "0x" + Account.sign_message(
        encode_defunct(text=text), ALICE.key).signature.hex())
    assert response.status_code == 200, response.text
    assert 8 * 3600 - 60 < expires_in(response) <= 8 * 3600
    assert cookie_max_age(response) > 8 * 3600 - 60


def never_serve(*_: object, **__: object) -> None:
    raise AssertionError("the API started serving: the configuration should have stopped it")


def test_cli_api__production_chain_without_siwe_domains__exits_with_reason(
        monkeypatch, tmp_path, deployment):
    monkeypatch.delenv("NODERR_SIWE_DOMAINS", raising=False)
    mainnet = deployment.model_copy(update={"chain_id": 1})
    monkeypatch.setattr(service_context, "load_service_context",
                        lambda *_: service_context.ServiceContext(
                            "http://127.0.0.1:1", mainnet, tmp_path / "unused.json",
                            "postgresql://unused"))
    monkeypatch.setattr("uvicorn.run", never_serve)
    result = CliRunner().invoke(noderr_cli, ["api", "--port", "1"])
    assert result.exit_code == 1
    assert "NODERR_SIWE_DOMAINS must be set on chain 1" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Noderr API on" not in result.output


def test_siwe_domains__explicit_on_a_production_chain__accepted(monkeypatch):
    monkeypatch.setenv("NODERR_SIWE_DOMAINS", "https://noderr.example")
    BackendSettings().check_for_chain(1)
    BackendSettings(siwe_domains=["https://noderr.example"]).check_for_chain(10)


def test_siwe_domains__default_on_the_local_chain__accepted(monkeypatch):
    monkeypatch.delenv("NODERR_SIWE_DOMAINS", raising=False)
    BackendSettings().check_for_chain(31337)
    with pytest.raises(ValueError, match="NODERR_SIWE_DOMAINS must be set on chain 8453"):
        BackendSettings().check_for_chain(8453)
