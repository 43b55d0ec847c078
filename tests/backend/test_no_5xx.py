"""Property: no generated input yields a 5xx. Hypothesis draws requests for every operation of
the app's OpenAPI schema (path, query and JSON values of random shapes, with and without a
session), and raw SIWE bodies and Typeform webhooks."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.backend.helpers import bearer, sign_in

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=10)
SCALAR = st.one_of(st.text(max_size=80), st.integers(min_value=-(2**70), max_value=2**300)
                   .map(str), st.sampled_from(["", "0", "-1", "0x", "null", "1e999", "%00",
                                               "00000000-0000-0000-0000-000000000000"]))
RUN = settings(max_examples=150, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.too_slow])


def operations(client) -> list[tuple[str, str, list[dict]]]:
    schema = client.get("/openapi.json").json()
    return [(method.upper(), path, op.get("parameters", []))
            for path, item in schema["paths"].items() for method, op in item.items()]


def fill(path: str, parameters: list[dict], draw_value) -> tuple[str, dict]:
    query = {}
    for parameter in parameters:
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", quote(draw_value() or "x", safe=""))
        elif parameter["in"] == "query":
            query[parameter["name"]] = draw_value()
    return path, query


@pytest.fixture
def session_headers(client, ops):
    ops.index()
    return bearer(sign_in(client, 0))


@RUN
@given(data=st.data())
def test_openapi_operations__any_input__never_5xx(client, session_headers, data):
    ops = operations(client)
    method, path, parameters = data.draw(st.sampled_from(ops))
    url, query = fill(path, parameters, lambda: data.draw(SCALAR))
    query = {k: v for k, v in query.items() if data.draw(st.booleans())}
    headers = data.draw(st.sampled_from([{}, session_headers, {"Authorization": "Bearer x"}]))
    body = data.draw(st.one_of(st.none(), JSON.map(lambda v: json.dumps(v).encode()),
                               st.binary(max_size=200)))
    response = client.request(method, url, params=query, content=body,
                              headers={**headers, "Content-Type": "application/json"})
    assert response.status_code < 500, (method, url, query, body, response.text)


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
