"""Applications through the API: direct applications, claims, review and history."""

from __future__ import annotations

import pytest

from tests.backend.helpers import bearer, sign_in
from tests.backend.siwe_helpers import KEYS

APPLICANT = KEYS[1].address
FORM = {"applicant_name": "Grace Hopper", "contact": "grace@example.org",
        "wallet_address": APPLICANT, "node_type": "Validator", "region": "Americas",
        "experience": "10 years"}


@pytest.fixture
def admin(client, ops):
    ops.index()
    return bearer(sign_in(client, 0))


@pytest.fixture
def applicant(client):
    return bearer(sign_in(client, 1))


def apply(client, applicant, **changes):
    return client.post("/applications", json={**FORM, **changes}, headers=applicant)


def test_apply__signed_in_wallet__verified_pending(client, applicant):
    response = apply(client, applicant)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["wallet_verified"], body["node_type"]) == ("pending", True, 3)
    assert body["application_id"].startswith("0x") and len(body["application_id"]) == 66


def test_apply__other_wallet__403(client, applicant):
    response = apply(client, applicant, wallet_address=KEYS[2].address)
    assert response.status_code == 403 and "signed-in wallet" in response.json()["detail"]


def test_apply__not_signed_in__401(client):
    assert client.post("/applications", json=FORM).status_code == 401


@pytest.mark.parametrize(("changes", "words"), [
    ({"node_type": 7}, "node type must be one of"),
    ({"wallet_address": "0x123"}, "not an Ethereum address"),
    ({"applicant_name": ""}, "applicant_name"),
])
def test_apply__bad_input__422(client, applicant, changes, words):
    response = apply(client, applicant, **changes)
    assert response.status_code == 422 and words in response.json()["detail"]


def test_claim__other_wallet__403(client, applicant):
    app_id = apply(client, applicant).json()["id"]
    other = bearer(sign_in(client, 2))
    response = client.post(f"/applications/{app_id}/claim", headers=other)
    assert response.status_code == 403 and "is not this application's wallet" in response.text


def test_get__other_wallet_not_admin__403(client, applicant, ops):
    ops.index()
    app_id = apply(client, applicant).json()["id"]
    other = bearer(sign_in(client, 2))
    assert client.get(f"/applications/{app_id}", headers=other).status_code == 403


def test_get__unknown__404_and_bad_id__422(client, applicant):
    assert client.get("/applications/00000000-0000-0000-0000-000000000000",
                      headers=applicant).status_code == 404
    assert client.get("/applications/not-a-uuid", headers=applicant).status_code == 422


def test_review__list_filter_reject_with_note(client, applicant, admin):
    first = apply(client, applicant).json()["id"]
    listed = client.get("/applications", params={"status": "pending", "node_type": 3},
                        headers=admin).json()
    assert [item["id"] for item in listed] == [first]
    assert client.get("/applications", params={"node_type": 1}, headers=admin).json() == []
    rejected = client.post(f"/applications/{first}/reject", json={"note": "no uptime record"},
                           headers=admin)
    assert rejected.status_code == 200 and rejected.json()["review_note"] == "no uptime record"
    again = client.post(f"/applications/{first}/approve", json={"note": "x"}, headers=admin)
    assert again.status_code == 409 and "is rejected" in again.json()["detail"]
    history = client.get(f"/applications/{first}", headers=admin).json()["history"]
    assert history[-1]["action"] == "reject" and history[-1]["actor"] == KEYS[0].address


def test_review__note_required__422(client, applicant, admin):
    app_id = apply(client, applicant).json()["id"]
    response = client.post(f"/applications/{app_id}/approve", json={"note": ""}, headers=admin)
    assert response.status_code == 422


def test_review__approve_needs_minter_role(client, applicant, ops):
    ops.revoke_role("MINTER_ROLE", KEYS[0].address)
    ops.index()
    admin = bearer(sign_in(client, 0))
    app_id = apply(client, applicant).json()["id"]
    response = client.post(f"/applications/{app_id}/approve", json={"note": "ok"},
                           headers=admin)
    assert response.status_code == 403 and "MINTER_ROLE" in response.json()["detail"]
    assert client.post(f"/applications/{app_id}/reject", json={"note": "no"},
                       headers=admin).status_code == 200
