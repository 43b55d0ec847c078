"""A NUL character in any text a request carries is a 422 naming the field, never a 500 from
PostgreSQL (which cannot store NUL in text)."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.backend.helpers import bearer, sign_in
from tests.backend.test_typeform import signed


def assert_refused(response, loc: list) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert loc in [item["loc"] for item in body["errors"]], body
    assert "NUL" in body["detail"]


@pytest.mark.parametrize(("url", "field"), [
    ("/licenses?owner=%00", "owner"), ("/events?contract=%00", "contract"),
    ("/events?event=a%00b", "event"), ("/events?address=%00", "address")])
def test_public_query__nul__422_naming_the_field(client, url, field):
    assert_refused(client.get(url), ["query", field])


@pytest.fixture
def admin(client, ops):
    ops.index()
    return bearer(sign_in(client, 0))


def test_admin_query__nul__422(client, admin):
    assert_refused(client.get("/applications?wallet=%00", headers=admin), ["query", "wallet"])


def test_body_text__nul__422_naming_the_field(client, admin):
    from tests.backend.siwe_helpers import KEYS

    application = {"applicant_name": "Q\u0000A", "wallet_address": KEYS[0].address,
                   "node_type": "Oracle", "contact": "q@example.com"}
    assert_refused(client.post("/applications", json=application, headers=admin),
                   ["body", "applicant_name"])
    for action in ("approve", "reject"):
        response = client.post(f"/applications/{uuid.uuid4()}/{action}",
                               json={"note": "x\u0000y"}, headers=admin)
        assert_refused(response, ["body", "note"])


def test_siwe_message__nul__422_before_parsing(client):
    response = client.post("/auth/verify", json={"message": "\x00" * 100,
                                                 "signature": "0x" + "11" * 65})
    assert_refused(response, ["body", "message"])


def test_path_and_header_text__nul__422(client):
    assert_refused(client.get("/vault/licenses/1/secrets/a%00b"), ["path", "name"])
    assert_refused(client.get("/auth/me", cookies={"noderr_session": '"\\000"'}), ["cookie"])


def test_webhook__body_without_nul__reaches_the_signature_check_unchanged(client):
    body = json.dumps({"event_id": "e", "event_type": "form_response",
                       "form_response": {"form_id": "lT4Z3j", "token": "t"}}).encode()
    response = client.post("/webhooks/typeform", content=body, headers=signed(body))
    assert response.status_code != 401, response.text
    nul = body.replace(b'"t"', b'"\\u0000"')
    assert_refused(client.post("/webhooks/typeform", content=nul, headers=signed(nul)),
                   ["body", "form_response", "token"])
