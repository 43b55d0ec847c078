"""Typeform: signed webhook → application, bad webhooks, and the Responses API backfill."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import json

import pytest

from backend.database import Database
from backend.typeform.intake import backfill
from backend.typeform.parsing import TypeformError
from tests.backend.fake_typeform import fake_typeform, response_item
from tests.backend.helpers import TYPEFORM_SECRET, TYPEFORM_TOKEN, bearer, fixture_path, sign_in

PAYLOAD = json.loads(fixture_path("typeform_webhook.json").read_text())


def signed(body: bytes, secret: str = TYPEFORM_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {"Typeform-Signature": "sha256=" + base64.b64encode(digest).decode(),
            "Content-Type": "application/json"}


def post(client, payload=PAYLOAD, headers=None):
    body = json.dumps(payload).encode()
    return client.post("/webhooks/typeform", content=body,
                       headers=signed(body) if headers is None else headers)


def test_webhook__sample_payload__creates_mapped_application(client, db):
    response = post(client)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "created"
    row = db.execute("SELECT applicant_name, contact, wallet_address, wallet_verified, "
                     "node_type, region, experience, status, source, answers->>'terms' "
                     "FROM applications").fetchone()
    assert row == ("Ada Lovelace", "ada@example.org",
                   "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", False, 1, "Europe", "7",
                   "pending", "typeform", "true")
    history = db.execute("SELECT action, to_status, actor FROM application_events").fetchall()
    assert history == [("created", "pending", "typeform")]


def test_webhook__replayed_event__idempotent(client, db):
    first = post(client).json()
    again = post(client)
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "application": first["application"]}
    assert db.execute("SELECT count(*) FROM applications").fetchone()[0] == 1


def test_webhook__bad_signature__401(client, db, caplog):
    body = json.dumps(PAYLOAD).encode()
    response = post(client, headers=signed(body, "wrong-secret"))
    assert response.status_code == 401 and "Typeform-Signature" in response.json()["detail"]
    assert db.execute("SELECT count(*) FROM applications").fetchone()[0] == 0
    assert TYPEFORM_SECRET not in caplog.text


def test_webhook__signature_of_other_body__401(client):
    body = json.dumps(PAYLOAD).encode()
    tampered = body.replace(b"Ada Lovelace", b"Mallory")
    response = client.post("/webhooks/typeform", content=tampered, headers=signed(body))
    assert response.status_code == 401


def test_webhook__missing_signature__401(client):
    assert post(client, headers={"Content-Type": "application/json"}).status_code == 401


def test_webhook__wrong_form__400(client):
    payload = copy.deepcopy(PAYLOAD)
    payload["form_response"]["form_id"] = "OtherForm"
    response = post(client, payload)
    assert response.status_code == 400
    assert "'OtherForm' is not the configured applications form" in response.json()["detail"]


def test_webhook__not_json__400(client):
    response = client.post("/webhooks/typeform", content=b"not json", headers=signed(b"not json"))
    assert response.status_code == 400 and "not JSON" in response.json()["detail"]


def test_webhook__wrong_event_type__400(client):
    payload = {**PAYLOAD, "event_type": "form_partial_response"}
    assert "is not form_response" in post(client, payload).json()["detail"]


@pytest.mark.parametrize(("ref", "value", "words"), [
    ("wallet_address", "0xnot-an-address", "not an Ethereum address"),
    ("node_type", "Miner", "node type must be one of Oracle, Guardian, Validator"),
])
def test_webhook__bad_answers__422_names_the_field(client, db, ref, value, words):
    payload = copy.deepcopy(PAYLOAD)
    for answer in payload["form_response"]["answers"]:
        if answer["field"]["ref"] == ref:
            answer["type"], answer["text"] = "text", value
            answer.pop("choice", None)
    response = post(client, payload)
    assert response.status_code == 422 and words in response.json()["detail"]
    assert db.execute("SELECT count(*) FROM typeform_events").fetchone()[0] == 0


def test_webhook__missing_answer__422(client):
    payload = copy.deepcopy(PAYLOAD)
    payload["form_response"]["answers"] = payload["form_response"]["answers"][1:]
    response = post(client, payload)
    assert response.status_code == 422 and "applicant_name" in response.json()["detail"]


def test_webhook__not_configured__503(make_client, settings):
    client = make_client(settings.model_copy(update={"typeform_secret": None}))
    assert post(client).status_code == 503


def backfill_items():
    wallets = ["0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
               "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
               "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"]
    items = [response_item(PAYLOAD["form_response"], f"tok{i}", f"2026-05-{10 + i}T10:00:00Z",
                           wallet) for i, wallet in enumerate(wallets)]
    items.append(response_item(PAYLOAD["form_response"], PAYLOAD["form_response"]["token"],
                               "2026-05-20T10:02:45Z", wallets[0]))
    return items


def run_backfill(settings, database_url, api_url, **kwargs):
    async def go():
        async with Database(database_url) as db:
            return await backfill(settings.model_copy(update={"typeform_api_url": api_url}),
                                  db, **kwargs)

    return asyncio.run(go())


def test_backfill__recovers_missed_responses_through_pages(client, db, settings,
                                                           database_url):
    assert post(client).json()["status"] == "created"  # the webhook of one response arrived
    with fake_typeform("lT4Z3j", TYPEFORM_TOKEN, backfill_items()) as (url, log):
        result = run_backfill(settings, database_url, url, page_size=2)
    assert (result.created, result.already, result.invalid) == (3, 1, [])
    assert [q.get("before") for q in log] == [None, "tok2", "tok0"]
    assert all(q["page_size"] == "2" and q["completed"] == "true" for q in log)
    assert db.execute("SELECT count(*) FROM applications").fetchone()[0] == 4
    with fake_typeform("lT4Z3j", TYPEFORM_TOKEN, backfill_items()) as (url, _):
        again = run_backfill(settings, database_url, url)
    assert (again.created, again.already) == (0, 4)


def test_backfill__since__passed_to_the_api(db, settings, database_url):
    from datetime import UTC, datetime

    with fake_typeform("lT4Z3j", TYPEFORM_TOKEN, backfill_items()) as (url, log):
        result = run_backfill(settings, database_url, url,
                              since=datetime(2026, 5, 11, tzinfo=UTC))
    assert log[0]["since"] == "2026-05-11T00:00:00Z"
    assert result.created == 3


def test_backfill__bad_token__clear_error(db, settings, database_url):
    with fake_typeform("lT4Z3j", "another-token", backfill_items()) as (url, _), \
            pytest.raises(TypeformError, match="Typeform API answered 403"):
        run_backfill(settings, database_url, url)


def test_get_application__admin__every_raw_answer(client, ops):
    app_id = post(client).json()["application"]
    ops.index()
    admin = bearer(sign_in(client, 0))
    response = client.get(f"/applications/{app_id}", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["answers"] == {
        "applicant_name": "Ada Lovelace", "contact": "ada@example.org",
        "wallet_address": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "node_type": "Oracle",
        "region": "Europe", "experience": 7, "terms": True}
    refs = {answer["field"]["ref"] for answer in PAYLOAD["form_response"]["answers"]}
    assert set(response.json()["answers"]) == refs


def test_get_application__applicant_or_list__no_raw_answers(client, ops):
    app_id = post(client).json()["application"]
    ops.index()
    applicant = bearer(sign_in(client, 1))
    own = client.get(f"/applications/{app_id}", headers=applicant)
    assert own.status_code == 200 and "answers" not in own.json()
    claimed = client.post(f"/applications/{app_id}/claim", headers=applicant)
    assert claimed.status_code == 200 and "answers" not in claimed.json()
    listed = client.get("/applications", headers=bearer(sign_in(client, 0))).json()
    assert [item["id"] for item in listed] == [app_id] and "answers" not in listed[0]
