"""Cross-site request forgery: a state-changing request authenticated by the session cookie is
honoured only from a sign-in origin (NODERR_SIWE_DOMAINS); bearer tokens and requests without
the cookie are not affected."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.backend.helpers import bearer, sign_in
from tests.backend.siwe_helpers import ORIGIN
from tests.backend.test_typeform import PAYLOAD, signed

OTHER_PORT = "http://127.0.0.1:8001"
SIBLING = "http://admin.localhost:8000"


@pytest.fixture
def cookie_client(client):
    """A client that holds the session cookie (set by the sign-in) and sends no bearer."""
    sign_in(client, 1)
    assert client.cookies.get("noderr_session")
    return client


def signed_in(client) -> bool:
    return client.get("/auth/me").status_code == 200


@pytest.mark.parametrize("headers", [
    {"Origin": OTHER_PORT},
    {"Origin": SIBLING},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "cross-site"},
], ids=["other-port", "sibling-subdomain", "opaque-origin", "same-site", "cross-site"])
def test_cookie_logout__from_elsewhere__403_and_session_kept(cookie_client, headers):
    response = cookie_client.post("/auth/logout", params={"everywhere": "true"},
                                  headers=headers)
    assert response.status_code == 403, response.text
    assert "cross-site request refused" in response.json()["detail"]
    assert "NODERR_SIWE_DOMAINS" in response.json()["detail"]
    assert signed_in(cookie_client)


def test_cookie_claim__from_another_port__403(cookie_client):
    response = cookie_client.post(f"/applications/{uuid.uuid4()}/claim",
                                  headers={"Origin": OTHER_PORT})
    assert response.status_code == 403
    assert "cross-site request refused" in response.json()["detail"]


@pytest.mark.parametrize("headers", [
    {"Origin": ORIGIN},
    {"Origin": ORIGIN + "/"},
    {"Sec-Fetch-Site": "same-origin"},
    {"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"},
], ids=["origin", "origin-slash", "fetch-metadata", "both"])
def test_cookie_logout__from_a_sign_in_origin__ok(cookie_client, headers):
    assert cookie_client.post("/auth/logout", headers=headers).status_code == 204
    assert not signed_in(cookie_client)


def test_bearer__from_any_origin__ok(client):
    token = sign_in(client, 1)  # the client holds the cookie too
    response = client.post("/auth/logout", headers={**bearer(token), "Origin": OTHER_PORT,
                                                    "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 204
    assert client.get("/auth/me", headers=bearer(token)).status_code == 401


def test_no_cookie__typeform_webhook_from_anywhere__unaffected(client):
    body = json.dumps(PAYLOAD).encode()
    response = client.post("/webhooks/typeform", content=body,
                           headers={**signed(body), "Origin": "https://api.typeform.com",
                                    "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200, response.text


def test_cookie_get__from_another_origin__not_a_csrf_matter(cookie_client):
    assert cookie_client.get("/auth/me", headers={"Origin": OTHER_PORT}).status_code == 200
