"""The server-side minter: batch approval signed by an encrypted keystore account, on anvil;
off by default (409); a wrong password stops the API from starting."""

from __future__ import annotations

import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import pytest
from eth_account import Account
from typer.testing import CliRunner

from backend.api.app import create_app
from backend.minter import MinterError
from noderr import service_context
from noderr_cli.main import app as noderr_cli
from tests.backend.helpers import bearer, sign_in
from tests.backend.siwe_helpers import KEYS

PASSWORD = "correct horse battery staple"  # noqa: S105 - test value
OTHER_PASSWORD = "another password"  # noqa: S105 - test value
MINTER_KEY = KEYS[5]  # an anvil dev account: it has ether for gas
FORM = {"applicant_name": "Grace Hopper", "contact": "grace@example.org",
        "region": "Americas", "experience": "10 years"}


def write_keystore(folder: Path, password: str = PASSWORD) -> tuple[Path, Path]:
    keystore = folder / "minter.json"
    encrypted = Account.encrypt(MINTER_KEY.key, password, kdf="scrypt", iterations=2**12)
    keystore.write_text(json.dumps(encrypted))
    password_file = folder / "minter-password"
    password_file.write_text(password + "\n")
    return keystore, password_file


@pytest.fixture
def minter_settings(settings, tmp_path):
    keystore, password_file = write_keystore(tmp_path)
    return settings.model_copy(update={"minter_keystore": keystore,
                                       "minter_password_file": password_file})


@pytest.fixture
def grant_minter(ops):
    ops.grant_role("MINTER_ROLE", MINTER_KEY.address)


def apply_as(client, key_index: int, node_type: str = "Oracle") -> str:
    response = client.post("/applications", headers=bearer(sign_in(client, key_index)),
                           json={**FORM, "wallet_address": KEYS[key_index].address,
                                 "node_type": node_type})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def batch(client, admin, ids, note="batch of the week"):
    return client.post("/applications/approve-batch", json={"ids": ids, "note": note},
                       headers=admin)


def admin_session(client, ops) -> dict[str, str]:
    ops.index()
    return bearer(sign_in(client, 0))


def test_approve_batch__minter_on__mints_after_indexing(make_client, minter_settings, ops, w3,
                                                        grant_minter):
    client = make_client(minter_settings)
    first, second = apply_as(client, 1), apply_as(client, 2, "Guardian")
    response = batch(client, admin_session(client, ops), [first, second])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["minter"] == MINTER_KEY.address
    assert [(r["id"], r["status"]) for r in body["results"]] == [(first, 200), (second, 200)]
    for result in body["results"]:
        assert w3.eth.get_transaction(result["tx_hash"])["from"] == MINTER_KEY.address
        assert w3.eth.wait_for_transaction_receipt(result["tx_hash"])["status"] == 1
    ops.index()
    admin = bearer(sign_in(client, 0))
    for app_id, owner in ((first, KEYS[1].address), (second, KEYS[2].address)):
        detail = client.get(f"/applications/{app_id}", headers=admin).json()
        assert detail["status"] == "minted"
        assert ops.contract.functions.ownerOf(detail["token_id"]).call() == owner
        assert [h["action"] for h in detail["history"]] == [
            "created", "approve", "mint_sent", "minted"]


def test_approve_batch__bad_items__per_item_4xx(make_client, minter_settings, ops, db,
                                                grant_minter):
    client = make_client(minter_settings)
    good, rejected = apply_as(client, 1), apply_as(client, 2)
    admin = admin_session(client, ops)
    client.post(f"/applications/{rejected}/reject", json={"note": "no"}, headers=admin)
    unverified = apply_as(client, 3)
    db.execute("UPDATE applications SET wallet_verified = false WHERE id = %s", (unverified,))
    unknown = str(uuid.uuid4())
    body = batch(client, admin, [good, rejected, unverified, unknown, good]).json()
    statuses = [(r["id"], r["status"]) for r in body["results"]]
    assert statuses == [(good, 200), (rejected, 409), (unverified, 409), (unknown, 404)]
    assert "cannot approve an application that is rejected" in body["results"][1]["detail"]
    assert "has not confirmed the wallet" in body["results"][2]["detail"]


def test_approve_batch__validator_application__409_left_pending(make_client, minter_settings,
                                                                  ops, w3, grant_minter):
    """The minter cannot mint Validator licenses (they carry votes): governance admits them."""
    client = make_client(minter_settings)
    oracle, validator = apply_as(client, 1), apply_as(client, 2, "Validator")
    admin = admin_session(client, ops)
    body = batch(client, admin, [oracle, validator]).json()
    assert [(r["id"], r["status"]) for r in body["results"]] == [(oracle, 200), (validator, 409)]
    assert "minted only by governance" in body["results"][1]["detail"]
    assert "proposal_transaction" in body["results"][1]["detail"]
    detail = client.get(f"/applications/{validator}", headers=admin).json()
    assert detail["status"] == "pending"
    assert [h["action"] for h in detail["history"]] == ["created"]


def test_approve_batch__approved_earlier_then_sent__second_batch_409(make_client,
                                                                     minter_settings, ops,
                                                                     grant_minter):
    client = make_client(minter_settings)
    app_id = apply_as(client, 1)
    admin = admin_session(client, ops)
    approved = client.post(f"/applications/{app_id}/approve", json={"note": "ok"},
                           headers=admin)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    first = batch(client, admin, [app_id]).json()["results"][0]
    assert first["status"] == 200
    again = batch(client, admin, [app_id]).json()["results"][0]
    assert again["status"] == 409
    assert f"in transaction {first['tx_hash']}; wait for the indexer" in again["detail"]
    ops.index()
    late = batch(client, bearer(sign_in(client, 0)), [app_id]).json()["results"][0]
    assert late["status"] == 409
    assert late["detail"] == "cannot approve an application that is minted"


def test_approve_batch__api_processes_at_once__every_mint_sent_nonces_in_sequence(
        make_client, minter_settings, ops, w3, grant_minter):
    """Three apps stand for three uvicorn workers: each has its own in-process lock, so only
    the database's advisory lock keeps their batches from taking the same nonce."""
    workers = [make_client(minter_settings) for _ in range(3)]
    ids = [apply_as(workers[0], key, node_type) for key in (1, 2, 3)
           for node_type in ("Oracle", "Guardian")]
    admin = admin_session(workers[0], ops)
    start = Barrier(len(workers))

    def send(worker: int):
        start.wait()
        return batch(workers[worker], admin, ids[worker * 2: worker * 2 + 2])

    with ThreadPoolExecutor(len(workers)) as pool:
        answers = list(pool.map(send, range(len(workers))))
    results = [result for answer in answers for result in answer.json()["results"]]
    assert [(result["id"], result["status"]) for result in results] == [(i, 200) for i in ids]
    receipts = [w3.eth.wait_for_transaction_receipt(result["tx_hash"]) for result in results]
    assert [receipt["status"] for receipt in receipts] == [1] * len(ids)
    nonces = sorted(w3.eth.get_transaction(result["tx_hash"])["nonce"] for result in results)
    assert nonces == list(range(nonces[0], nonces[0] + len(ids)))


def test_approve_batch__chain_refuses_one__409_and_the_rest_sent(make_client, minter_settings,
                                                                 ops, grant_minter):
    client = make_client(minter_settings)
    first, second = apply_as(client, 1), apply_as(client, 2)
    ops.mint(KEYS[1].address, 1)  # the applicant already holds an Oracle license
    body = batch(client, admin_session(client, ops), [first, second]).json()
    assert [(r["id"], r["status"]) for r in body["results"]] == [(first, 409), (second, 200)]
    assert "owner already licensed" in body["results"][0]["detail"]


def test_approve_batch__minter_off__409(client, ops, db):
    app_id = apply_as(client, 1)
    response = batch(client, admin_session(client, ops), [app_id])
    assert response.status_code == 409
    assert response.json()["detail"].startswith("server-side minter is off")
    assert db.execute("SELECT status FROM applications").fetchone()[0] == "pending"


def test_approve_batch__minter_without_role__409(make_client, minter_settings, ops, db):
    client = make_client(minter_settings)
    app_id = apply_as(client, 1)
    response = batch(client, admin_session(client, ops), [app_id])
    assert response.status_code == 409
    assert response.json()["detail"] == (f"the server-side minter {MINTER_KEY.address} does "
                                         "not hold MINTER_ROLE on NodeLicense: grant it first")
    assert db.execute("SELECT status FROM applications").fetchone()[0] == "pending"


def test_approve_batch__caller_not_minter__403(make_client, minter_settings, ops,
                                               grant_minter):
    client = make_client(minter_settings)
    app_id = apply_as(client, 1)
    ops.index()
    response = batch(client, bearer(sign_in(client, 1)), [app_id])
    assert response.status_code == 403 and "MINTER_ROLE" in response.json()["detail"]


@pytest.mark.parametrize(("ids", "words"), [
    ([], "ids"), (["not-a-uuid"], "ids.0"), ([str(uuid.uuid4()) for _ in range(51)], "ids"),
], ids=["empty", "bad-id", "too-many"])
def test_approve_batch__bad_body__422(client, ops, ids, words):
    response = batch(client, admin_session(client, ops), ids)
    assert response.status_code == 422 and words in response.json()["detail"]


def test_create_app__wrong_password__refuses_to_start(settings, tmp_path, deployment, caplog):
    caplog.set_level(logging.DEBUG)
    keystore, _ = write_keystore(tmp_path)
    wrong = tmp_path / "wrong-password"
    wrong.write_text("hunter2")
    bad = settings.model_copy(update={"minter_keystore": keystore,
                                      "minter_password_file": wrong})
    with pytest.raises(MinterError, match=r"cannot decrypt the minter keystore .* wrong password"):
        create_app(bad, deployment, "postgresql://unused", "http://127.0.0.1:1")
    assert "hunter2" not in caplog.text


@pytest.mark.parametrize(("change", "words"), [
    ({"minter_password_file": None}, "set both NODERR_MINTER_KEYSTORE and"),
    ({"minter_keystore": Path("/nonexistent/minter.json")}, "cannot read the minter keystore"),
    ({"minter_password_file": Path("/nonexistent/pw")}, "cannot read the minter password file"),
], ids=["half-configured", "no-keystore", "no-password-file"])
def test_create_app__unusable_minter_config__refuses_to_start(minter_settings, deployment,
                                                              change, words):
    with pytest.raises(MinterError, match=words):
        create_app(minter_settings.model_copy(update=change), deployment, "postgresql://x",
                   "http://127.0.0.1:1")


def test_cli_api__wrong_password__exits_with_reason(monkeypatch, tmp_path, deployment):
    (tmp_path / "other").mkdir()
    keystore, _ = write_keystore(tmp_path, password=OTHER_PASSWORD)
    _, password_file = write_keystore(tmp_path / "other", password=PASSWORD)
    monkeypatch.setenv("NODERR_MINTER_KEYSTORE", str(keystore))
    monkeypatch.setenv("NODERR_MINTER_PASSWORD_FILE", str(password_file))
    monkeypatch.setattr(service_context, "load_service_context",
                        lambda *_: service_context.ServiceContext(
                            "http://127.0.0.1:1", deployment, tmp_path / "unused.json",
                            "postgresql://unused"))
    result = CliRunner().invoke(noderr_cli, ["api", "--port", "1"])
    assert result.exit_code == 1
    assert "cannot decrypt the minter keystore" in result.output
    assert PASSWORD not in result.output and "Noderr API on" not in result.output
