"""End to end on anvil + Postgres: Typeform webhook → application → SIWE claim → admin
approval → mint sent from the admin's account → indexed → minted → gated OK → revoked → denied."""

from __future__ import annotations

import json

from tests.backend.helpers import ADMIN, bearer, fixture_path, sign_in
from tests.backend.siwe_helpers import KEYS
from tests.backend.test_typeform import signed

APPLICANT = KEYS[1].address  # the wallet typed into the sample Typeform response


def test_flow__typeform_to_license_to_revocation(client, ops, w3):
    body = fixture_path("typeform_webhook.json").read_bytes()
    created = client.post("/webhooks/typeform", content=body, headers=signed(body)).json()
    app_id = created["application"]

    ops.index()
    admin = bearer(sign_in(client, 0))
    refused = client.post(f"/applications/{app_id}/approve", json={"note": "ok"}, headers=admin)
    assert refused.status_code == 409 and "not confirmed the wallet" in refused.json()["detail"]

    applicant = bearer(sign_in(client, 1))
    claimed = client.post(f"/applications/{app_id}/claim", headers=applicant)
    assert claimed.status_code == 200 and claimed.json()["wallet_verified"] is True

    approved = client.post(f"/applications/{app_id}/approve",
                           json={"note": "experienced operator"}, headers=admin).json()
    assert approved["status"] == "approved"
    tx = approved["mint_transaction"]
    assert tx["to"] == ops.contract.address and tx["chain_id"] == 31337
    receipt = ops.w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": ADMIN, "to": tx["to"], "data": tx["data"]}))
    assert receipt["status"] == 1

    assert client.get(f"/applications/{app_id}", headers=admin).json()["status"] == "approved"
    ops.index()
    minted = client.get(f"/applications/{app_id}", headers=applicant).json()
    token_id = minted["token_id"]
    assert minted["status"] == "minted" and token_id == 2  # token 1: the genesis validator
    assert [(h["action"], h["to_status"]) for h in minted["history"]] == [
        ("created", "pending"), ("wallet_verified", "pending"), ("approve", "approved"),
        ("minted", "minted")]
    assert minted["history"][-1]["actor"] == ADMIN.lower()
    license_ = ops.contract.functions.license_of(token_id).call()
    assert license_[3].hex() == minted["application_id"][2:]

    gated = client.get("/nodes/oracle/access", headers=applicant)
    assert gated.status_code == 200 and gated.json()["token_id"] == token_id

    ops.revoke(token_id)
    ops.index()
    denied = client.get("/nodes/oracle/access", headers=applicant)
    assert denied.status_code == 403
    assert json.loads(denied.text)["detail"] == f"{APPLICANT} holds no active Oracle license"
