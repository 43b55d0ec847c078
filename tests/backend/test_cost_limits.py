"""What a public request may cost: per-client rate limits (429 with Retry-After past each),
bounded page sizes (422 above), and an index under every filter of GET /events."""

from __future__ import annotations

import hashlib
import json

import pytest

from backend.mirror import argument_equals
from tests.backend.helpers import bearer, sign_in
from tests.backend.siwe_helpers import KEYS, sign, siwe_text
from tests.backend.test_applications import FORM

TIGHT = {"rate_limit_sign_in": "3/minute", "rate_limit_applications": "2/hour",
         "rate_limit_public": "4/minute", "rate_limit_anonymous": "2/minute"}


@pytest.fixture
def tight(make_client, settings):
    return make_client(settings.model_copy(update=TIGHT))


def assert_limited(response) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    assert "too many requests" in response.json()["detail"]


def test_nonce_and_verify__share_the_sign_in_limit(tight):
    nonce = tight.get("/auth/nonce").json()["nonce"]
    text = siwe_text(KEYS[1].address, nonce)
    assert tight.post("/auth/verify", json={"message": text,
                                            "signature": sign(text, 1)}).status_code == 200
    assert tight.get("/auth/nonce").status_code == 200
    assert_limited(tight.get("/auth/nonce"))
    assert_limited(tight.post("/auth/verify", json={"message": text, "signature": "0x00"}))


def test_nonce__limited__no_row_inserted(tight, db):
    for _ in range(3):
        tight.get("/auth/nonce")
    assert_limited(tight.get("/auth/nonce"))
    assert db.execute("SELECT count(*) FROM siwe_nonces").fetchone() == (3,)


def test_applications_post__limited_per_client(make_client, settings, db):
    client = make_client(settings.model_copy(update={"rate_limit_applications": "2/hour"}))
    applicant = bearer(sign_in(client, 1))
    for _ in range(2):
        assert client.post("/applications", json=FORM, headers=applicant).status_code == 201
    assert_limited(client.post("/applications", json=FORM, headers=applicant))
    assert db.execute("SELECT count(*) FROM applications").fetchone() == (2,)


@pytest.mark.parametrize("path", ["/events", "/licenses", "/licenses/1",
                                  "/governance/proposals"])
def test_public_reads__limited_per_client(tight, path):
    statuses = [tight.get(path).status_code for _ in range(4)]
    assert 429 not in statuses and 500 not in statuses
    assert_limited(tight.get(path))


def test_limits__not_shared_between_routes(tight):
    for _ in range(4):
        tight.get("/events")
    assert_limited(tight.get("/events"))
    assert tight.get("/auth/nonce").status_code == 200
    assert tight.get("/healthz").status_code == 200


@pytest.mark.parametrize(("path", "limit"), [
    ("/events", 1001), ("/licenses", 1001), ("/governance/proposals", 1001),
])
def test_page_size_above_the_maximum__422(client, path, limit):
    assert client.get(path, params={"limit": limit}).status_code == 422
    assert client.get(path, params={"limit": 1000}).status_code == 200


EVENTS = 20000


@pytest.fixture
def many_events(db):
    """EVENTS Transfer events between random addresses; one names `target`."""
    db.execute(
        "INSERT INTO chain_events (chain_id, block_number, block_hash, block_timestamp, tx_hash,"
        " tx_index, log_index, contract_name, contract_address, event_name, args, topics, data)"
        " SELECT 31337, g, 'h', now(), 'tx' || g, 0, 0, 'NodeLicense', '0xc', 'Transfer',"
        " jsonb_build_object('from', '0x' || md5(g::text), 'to', '0x' || md5((-g)::text),"
        " 'token_id', g::text), '{}', '' FROM generate_series(1, %s) g", (EVENTS,))
    db.execute("ANALYZE chain_events")
    return "0x" + hashlib.md5(b"-77").hexdigest()  # noqa: S324 - the fixture's own data


def plan(db, where: str, params: dict) -> str:
    row = db.execute("EXPLAIN (FORMAT JSON) SELECT * FROM chain_events WHERE chain_id = 31337"
                     f" AND {where} ORDER BY block_number, log_index LIMIT 101",
                     params).fetchone()
    return json.dumps(row[0])


@pytest.mark.parametrize(("where", "params"), [
    ("args @? %(address)s::jsonpath", {"address": argument_equals("0xabc")}),
    ("contract_address = %(value)s", {"value": "0xabc"}),
    ("event_name = %(value)s", {"value": "NoSuchEvent"}),
    ("coalesce(args->>'token_id', args->>'tokenId') = %(value)s", {"value": "77"}),
    ("(contract_name = %(value)s OR contract_address = lower(%(value)s))", {"value": "0xabc"}),
    ("block_timestamp >= %(value)s::timestamptz", {"value": "2100-01-01T00:00:00Z"}),
])
def test_events_filters__answered_by_an_index__no_seq_scan(db, many_events, where, params):
    chosen = plan(db, where, params)
    assert "Seq Scan" not in chosen and "Index" in chosen, chosen


def test_events_by_address__finds_the_argument_through_the_index(client, many_events, db):
    page = client.get("/events", params={"address": many_events.upper().replace("0X", "0x")})
    assert [e["args"]["token_id"] for e in page.json()["events"]] == ["77"]
    assert "Seq Scan" not in plan(db, "args @? %(address)s::jsonpath",
                                  {"address": argument_equals(many_events)})
