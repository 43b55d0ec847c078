"""The validators' consensus messages in the backend, on real anvil and PostgreSQL: what an
active validator reports is stored once per (reporter, feed, signed message), read from its
signed text, and only when the signature recovers to the sender the text names, and within
the bounds on what one reporter stores (backend/message_bounds.py); a round's messages are
listed newest first, and each reported round shows the view changes its reporter saw."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from backend.consensus_messages import MAX_MESSAGES
from backend.message_bounds import MAX_BEFORE_FIRST_ROUND, MAX_PER_ROUND, ROUND_WINDOW
from client import endpoints
from client.models import MessageReport
from node.consensus.messages import ViewChange
from node.consensus.wire import canonical
from node.runtime.keys import anvil_account
from noderr.domain import NodeType
from tests.backend.helpers import bearer, sign_in
from tests.backend.test_network import answer
from tests.backend.test_rounds import FEED, GENESIS, ORACLE_KEY, post, round_
from tests.node.validator.helpers import CHAIN, codec, every_kind

ROUND = 7
NOW = datetime.now(UTC)
REPORTER = anvil_account(GENESIS, CHAIN)
OTHERS = [anvil_account(index, CHAIN) for index in (4, 5, 6)]
SIGNED = every_kind([REPORTER, *OTHERS], ROUND)
"""pre_prepare, 3 prepares, 3 commits, 3 view changes, new view, decided: the reporter (#9)
signed the pre-prepare, a prepare, a commit and a view change."""


def item(message, payload, feed=FEED, **change) -> dict:
    return {"feed": feed, "text": canonical(message), "signature": payload["signature"],
            "seen_at": NOW.isoformat(), **change}


ITEMS = [item(message, payload) for message, payload in SIGNED]


def report(client, headers, messages):
    return client.post("/nodes/consensus-messages", headers=headers,
                       json={"messages": messages})


def listed(client, round_number=ROUND, **params) -> list[dict]:
    response = client.get(f"/network/rounds/{FEED}/{round_number}/messages", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def stored(db) -> int:
    return db.execute("SELECT count(*) FROM consensus_messages").fetchone()[0]


@pytest.fixture
def validator(client, ops):
    ops.index()
    return bearer(sign_in(client, GENESIS))


# storing
def test_report__every_kind__stored_read_from_the_signed_text(client, validator):
    response = report(client, validator, ITEMS)
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": len(ITEMS)}
    rows = {(row["phase"], row["sender"]): row for row in listed(client)}
    assert len(rows) == len(ITEMS)
    for message, payload in SIGNED:
        row = rows[(payload["type"], message.sender)]
        assert (row["feed"], row["round"], row["text"], row["signature"], row["reported_by"]) \
            == (FEED, ROUND, canonical(message), payload["signature"], REPORTER.address)
        assert row["direction"] == ("sent" if message.sender == REPORTER.address
                                    else "received")
    assert rows[("view_change", OTHERS[0].address)]["view"] == ROUND + 1
    assert rows[("decided", OTHERS[0].address)]["view"] is None


def test_report__same_batch_again__idempotent_nothing_new(client, validator, db):
    assert report(client, validator, ITEMS[:4]).json() == {"stored": 4}
    assert report(client, validator, ITEMS).json() == {"stored": len(ITEMS) - 4}
    assert report(client, validator, ITEMS).json() == {"stored": 0}
    assert stored(db) == len(ITEMS)


# attackers
def test_report__not_an_active_validator__403_nothing_stored(client, ops, db):
    ops.mint(anvil_account(ORACLE_KEY, CHAIN).address, NodeType.ORACLE)
    ops.index()
    for key in (ORACLE_KEY, 3):
        assert report(client, bearer(sign_in(client, key)), ITEMS).status_code == 403
    assert stored(db) == 0


def test_report__forged_sender__422_naming_it_nothing_stored(client, validator, db):
    prepare, signed = SIGNED[1]
    assert prepare.sender == REPORTER.address
    forged = {**item(prepare, signed),
              "text": canonical(prepare).replace(REPORTER.address, OTHERS[2].address)}
    response = report(client, validator, [*ITEMS[2:5], forged])
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["loc"] == ["body", "messages", 3], error
    assert f"not signed by its sender {OTHERS[2].address}" in error["msg"]
    assert stored(db) == 0


def test_report__signature_moved_to_another_text__422(client, validator, db):
    (prepare, _), (_, other_signature) = SIGNED[2], SIGNED[3]
    response = report(client, validator, [item(prepare, other_signature)])
    assert response.status_code == 422 and stored(db) == 0


@pytest.mark.parametrize(("change", "words"), [
    ({"feed": "NOPE"}, "not a feed of this deployment"),
    ({"text": "prepare|0x12|7|7|00"}, "not a consensus message"),
    ({"text": canonical(SIGNED[1][0]).replace(f"|{ROUND}|{ROUND}|", f"|{ROUND}|1|")},
     "the views of round r start at r"),
])
def test_report__contradicted_by_deployment_or_text__422_naming_it(client, validator, db,
                                                                    change, words):
    response = report(client, validator, [ITEMS[0], {**ITEMS[1], **change}])
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["loc"] == ["body", "messages", 1] and words in error["msg"], error
    assert stored(db) == 0


BAD = [{"signature": "0x12"}, {"text": ""}, {"text": "x" * 16_385}, {"seen_at": "2026-01-01"},
       {"seen_at": "1999-01-01T00:00:00+00:00"}, {"surplus": 1}]


def test_report__invalid_message__422(client, validator, db):
    for bad in BAD:
        assert report(client, validator, [{**ITEMS[0], **bad}]).status_code == 422, bad
    assert stored(db) == 0


def test_report__flood__over_the_batch_cap_422_over_the_body_limit_413(
        make_client, settings, client, validator, db):
    roomy = make_client(settings.model_copy(update={"max_body_bytes": 10_000_000}))
    flood = (ITEMS * (MAX_MESSAGES // len(ITEMS) + 1))[:MAX_MESSAGES + 1]
    assert report(roomy, validator, flood).status_code == 422
    assert report(client, validator, flood).status_code == 413
    assert stored(db) == 0


# bounds on what one reporter stores (backend/message_bounds.py)
def view_changes(round_number: int, count: int) -> list[dict]:
    """`count` distinct valid messages of one round the reporter signs at will: view changes
    to ever higher views (above the one of ITEMS)."""
    signer = codec(REPORTER)
    return [item(change, signer.encode(change)) for change in (
        ViewChange(REPORTER.address, round_number, view, None)
        for view in range(round_number + 2, round_number + 2 + count))]


def landed(db, deployment, round_number: int) -> None:
    """The mirror holds the feed's Transmitted event of `round_number`, its latest round."""
    db.execute(
        "INSERT INTO chain_events (chain_id, block_number, block_hash, block_timestamp,"
        " tx_hash, tx_index, log_index, contract_name, contract_address, event_name, args,"
        " topics, data) VALUES (%s, 1, '0x01', now(), '0x02', 0, 0, %s, %s, 'Transmitted',"
        " %s, '{}', '0x')",
        (CHAIN, f"NodeFeed.{FEED}", deployment.feeds()[FEED].address.lower(),
         json.dumps({"round": round_number})))


def refusal(response) -> dict:
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    return error


def test_report__honest_round_at_the_cap__stored(client, validator, db):
    honest = [*ITEMS, *view_changes(ROUND, MAX_PER_ROUND - len(ITEMS))]
    for start in range(0, len(honest), MAX_MESSAGES):
        assert report(client, validator, honest[start:start + MAX_MESSAGES]).status_code == 200
    assert report(client, validator, ITEMS).json() == {"stored": 0}
    assert stored(db) == MAX_PER_ROUND


def test_report__flood_of_one_round__422_naming_the_limit_batch_refused(client, validator, db):
    flood = view_changes(ROUND, MAX_PER_ROUND + 1)
    assert report(client, validator, flood[:MAX_MESSAGES]).status_code == 200
    error = refusal(report(client, validator, [ITEMS[0], *flood[MAX_MESSAGES:]]))
    assert error["loc"] == ["body", "messages", 0], error
    assert f"more than {MAX_PER_ROUND} messages (MAX_PER_ROUND)" in error["msg"], error
    assert stored(db) == MAX_MESSAGES


def test_report__rounds_far_from_the_chains_latest__422_naming_the_window(
        client, validator, db, deployment):
    latest = 5_000
    landed(db, deployment, latest)
    error = refusal(report(client, validator, ITEMS))
    assert error["loc"] == ["body", "messages", 0], error
    assert f"more than {ROUND_WINDOW} rounds (ROUND_WINDOW) from its latest round on chain, " \
           f"{latest}" in error["msg"], error
    ahead = latest + ROUND_WINDOW
    assert report(client, validator, view_changes(ahead, 2)).json() == {"stored": 2}
    assert refusal(report(client, validator, view_changes(ahead + 1, 1)))["loc"] == \
        ["body", "messages", 0]
    assert stored(db) == 2


def test_report__flood_before_the_feeds_first_round__422_naming_the_limit(client, validator,
                                                                          db):
    db.execute(
        "INSERT INTO consensus_messages (feed, round, view, phase, sender, signed_digest,"
        " signature, text, reporter, seen_at) SELECT %s, 1000 + g / 100, 1000 + g / 100,"
        " 'prepare', %s, int8send(g), '\\x00', 't', %s, now()"
        " FROM generate_series(1, %s) g",
        (FEED, REPORTER.address.lower(), REPORTER.address.lower(), MAX_BEFORE_FIRST_ROUND))
    error = refusal(report(client, validator, ITEMS[:1]))
    assert f"more than {MAX_BEFORE_FIRST_ROUND} messages (MAX_BEFORE_FIRST_ROUND)" in \
        error["msg"], error
    assert stored(db) == MAX_BEFORE_FIRST_ROUND


# the public read
def test_listing__filters_and_cursor_pages(client, validator):
    report(client, validator, ITEMS)
    assert {row["sender"] for row in listed(client, phase="prepare")} == {
        REPORTER.address, *(key.address for key in OTHERS[:2])}
    assert [row["phase"] for row in listed(client, view=ROUND + 1)] == \
        ["new_view", *["view_change"] * 3]
    assert {row["phase"] for row in listed(client, sender=OTHERS[0].address.lower())} == \
        {"prepare", "commit", "view_change", "new_view", "decided"}
    assert len(listed(client, reporter=REPORTER.address)) == len(ITEMS)
    assert listed(client, round_number=ROUND + 1) == []
    seen, cursor = [], None
    while True:
        page = client.get(f"/network/rounds/{FEED}/{ROUND}/messages", params={
            "limit": 5, **({"cursor": cursor} if cursor else {})}).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [row["id"] for row in seen] == [row["id"] for row in listed(client)]


MESSAGES_PATH = f"/network/rounds/{FEED}/{ROUND}/messages"
BAD_READS = [(f"/network/rounds/sp500/{ROUND}/messages", {}),
             (f"/network/rounds/{FEED}/0/messages", {}), (MESSAGES_PATH, {"phase": "vote"}),
             (MESSAGES_PATH, {"sender": "0x12"}), (MESSAGES_PATH, {"limit": 1001})]


def test_listing__bad_filter__422(client):
    for path, params in BAD_READS:
        assert client.get(path, params=params).status_code == 422, (path, params)
    assert client.get(MESSAGES_PATH, params={"cursor": "nonsense"}).status_code == 400


def test_rounds_listing__view_changes_the_reporter_saw(client, validator):
    report(client, validator, ITEMS)
    assert post(client, validator, [round_(ROUND, view=ROUND + 1)]).status_code == 200
    assert post(client, validator, [round_(ROUND + 1)]).status_code == 200
    rows = {row["round"]: row for row in client.get("/network/rounds").json()["items"]}
    assert rows[ROUND]["view_changes_seen"] == [{"view": ROUND + 1, "senders": sorted(
        [REPORTER.address, OTHERS[0].address, OTHERS[1].address])}]
    assert rows[ROUND + 1]["view_changes_seen"] == []


def test_listing__answered_by_the_round_index(db):
    db.execute(
        "INSERT INTO consensus_messages (feed, round, view, phase, sender, signed_digest,"
        " signature, text, reporter, seen_at)"
        " SELECT 'F' || mod(g, 20), g / 20 + 1, g / 20 + 1, 'prepare', '0xabc',"
        " int8send(g), '\\x00', 't', '0xdef', now() FROM generate_series(1, 20000) g")
    db.execute("ANALYZE consensus_messages")
    row = db.execute("EXPLAIN (FORMAT JSON) SELECT * FROM consensus_messages WHERE feed = 'F7'"
                     " AND round = 50 ORDER BY recorded_at DESC, id DESC LIMIT 101").fetchone()
    chosen = json.dumps(row[0])
    assert "Seq Scan" not in chosen and "consensus_messages_by_round" in chosen, chosen


# the typed client
def test_client_calls__report_and_read_back(client, validator):
    messages = [MessageReport.model_validate(entry) for entry in ITEMS]
    assert sum(answer(client, call, validator)
               for call in endpoints.report_messages(messages)) == len(ITEMS)
    page = answer(client, endpoints.network_round_messages(FEED, ROUND, phase="decided"))
    (decided,) = page.items
    assert (decided.sender, decided.direction, page.next_cursor) == \
        (OTHERS[0].address, "received", None)
