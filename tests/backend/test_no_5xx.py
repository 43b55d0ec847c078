"""Property: no generated input yields a 5xx where the OpenAPI document cannot lead a generator:
SIWE messages around the EIP-4361 prefix, and Typeform webhooks that pass the signature
check. Every operation of the document is exercised by Schemathesis (test_schemathesis.py)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=10)
RUN = settings(max_examples=150, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.too_slow])


@RUN
@given(message=st.text(max_size=600), signature=st.text(max_size=140),
       prefix=st.booleans())
def test_siwe_verify__any_text__never_5xx(client, message, signature, prefix):
    nonce = client.get("/auth/nonce").json()["nonce"]
    text = f"127.0.0.1:8000 wants you to sign in with your Ethereum account:\n{message}" \
        if prefix else message.replace("NONCE", nonce)
    response = client.post("/auth/verify", json={"message": text, "signature": signature})
    assert 400 <= response.status_code < 500


@RUN
@given(payload=JSON)
def test_typeform_webhook__any_signed_json__never_5xx(client, payload):
    from tests.backend.test_typeform import signed

    body = json.dumps({"event_id": "e", "event_type": "form_response",
                       "form_response": {"form_id": "lT4Z3j", "token": "t",
                                         "answers": payload}}).encode()
    response = client.post("/webhooks/typeform", content=body, headers=signed(body))
    assert response.status_code < 500, response.text
