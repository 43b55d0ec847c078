"""The validators' consensus rounds in the backend, on real anvil and PostgreSQL: what an
active validator reports is stored once per (feed, round, reporter) and listed newest first,
and a round is `transmitted` only when the feed's Transmitted event is indexed, with the
chain's transaction hash, answer and signers, whatever a node claims."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from backend import mirror
from client import endpoints
from client.models import RoundReport
from noderr.domain import NodeType
from noderr.feed_report import Report, sign_report, transmit_args
from tests.backend.helpers import bearer, sign_in
from tests.backend.siwe_helpers import KEYS
from tests.backend.test_cost_limits import TIGHT, assert_limited
from tests.backend.test_network import answer

GENESIS, SECOND, ORACLE_KEY = 9, 5, 1
"""anvil #9 holds the genesis Validator license (token 1); #5 is admitted in `second`."""
FEED = "SP500"
NOW = datetime.now(UTC)
ANSWER = 123_456_000_000


def round_(number, answer=ANSWER, status="agreed", view=None, leader=KEYS[GENESIS].address,
           signers=(KEYS[GENESIS].address,), feed=FEED, decided_at=NOW, observed_at=None):
    return {"feed": feed, "round": number, "view": number if view is None else view,
            "leader": leader, "answer": str(answer),
            "observed_at": number * 60 if observed_at is None else observed_at,
            "signers": list(signers), "status": status, "decided_at": decided_at.isoformat()}


def post(client, headers, rounds):
    return client.post("/nodes/rounds", headers=headers, json={"rounds": rounds})


def listed(client, **params) -> list[dict]:
    response = client.get("/network/rounds", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def stored(db) -> int:
    return db.execute("SELECT count(*) FROM consensus_rounds").fetchone()[0]


@pytest.fixture
def validator(client, ops):
    ops.index()
    return bearer(sign_in(client, GENESIS))


@pytest.fixture
def second(client, ops):
    ops.mint(KEYS[SECOND].address, NodeType.VALIDATOR)
    ops.index()
    return bearer(sign_in(client, SECOND))


@pytest.fixture
def feed(w3, deployment):
    record = deployment.feeds()[FEED]
    return w3.eth.contract(address=record.address, abi=record.abi)


def transmit(ops, feed, number, signers=(GENESIS,)) -> dict:
    """Put round `number` on-chain, signed by the validators `signers` (anvil indexes: every
    active one, so they are also the feed's validator list)."""
    report = Report(number, ANSWER, number * 60)
    signatures = {KEYS[key].address: sign_report(KEYS[key].key, ops.deployment.chain_id,
                                                 feed.address, report) for key in signers}
    return ops.send(feed.functions.transmit(*transmit_args(report, signatures, signatures)))


# storing
def test_report__active_validator__stored_and_listed_as_agreed(client, validator, db):
    response = post(client, validator, [round_(1), round_(2, view=3)])
    assert response.status_code == 200, response.text
    assert response.json() == {"stored": 2}
    first, second = listed(client)[::-1]
    assert (first["feed"], first["round"], first["status"], first["value"],
            first["reported_by"], first["leader"], first["view_changes"]) == \
        (FEED, 1, "agreed", str(ANSWER), KEYS[GENESIS].address, KEYS[GENESIS].address, 0)
    assert second["view_changes"] == 1
    assert first["transmit_tx_hash"] is None and first["agrees_with_chain"] is None


def test_report__posted_again__idempotent(client, validator, db):
    assert post(client, validator, [round_(1)]).status_code == 200
    assert post(client, validator, [round_(1)]).status_code == 200
    assert stored(db) == 1


def test_report__status_advances_never_back(client, validator, db):
    post(client, validator, [round_(1)])
    post(client, validator, [round_(1, status="failed", signers=())])
    post(client, validator, [round_(1, status="agreed", signers=())])
    (item,) = listed(client)
    assert (item["status"], item["reported_status"], item["signers"]) == ("failed", "failed", [])


@pytest.mark.parametrize("change", [{"answer": ANSWER + 1}, {"view": 2},
                                    {"leader": KEYS[SECOND].address}, {"observed_at": 1}])
def test_report__claim_changed__409_nothing_more_stored(client, validator, db, change):
    post(client, validator, [round_(1)])
    response = post(client, validator, [round_(2), round_(1, **change)])
    assert response.status_code == 409, response.text
    assert "round 1 of SP500" in response.json()["detail"]
    assert stored(db) == 1


def test_report__reporters_kept_apart(client, validator, second):
    post(client, validator, [round_(1)])
    post(client, second, [round_(1, answer=ANSWER + 5)])
    assert {(item["reported_by"], item["value"]) for item in listed(client)} == {
        (KEYS[GENESIS].address, str(ANSWER)), (KEYS[SECOND].address, str(ANSWER + 5))}


# refusals
def test_report__not_a_validator__403_nothing_stored(client, ops, db):
    ops.mint(KEYS[ORACLE_KEY].address, NodeType.ORACLE)
    ops.index()
    for key in (ORACLE_KEY, 3):
        assert post(client, bearer(sign_in(client, key)), [round_(1)]).status_code == 403
    assert stored(db) == 0


def test_report__suspended_validator__403(client, ops, second, db):
    ops.suspend(ops.contract.functions.token_of(KEYS[SECOND].address, NodeType.VALIDATOR)
                .call())
    ops.index()
    assert post(client, second, [round_(1)]).status_code == 403
    assert stored(db) == 0


def test_report__no_session__401(client):
    assert post(client, {}, [round_(1)]).status_code == 401


@pytest.mark.parametrize(("rounds", "index", "words"), [
    ([round_(1, feed="NOPE")], 0, "not a feed of this deployment"),
    ([round_(1), round_(1)], 1, "twice in the batch"),
])
def test_report__contradicted_by_deployment_or_batch__422_naming_it(client, validator, db,
                                                                     rounds, index, words):
    response = post(client, validator, rounds)
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["loc"] == ["body", "rounds", index] and words in error["msg"], error
    assert stored(db) == 0


@pytest.mark.parametrize("bad", [
    {"round": 0}, {"round": 2**32}, {"view": 0}, {"leader": None}, {"leader": "0x12"},
    {"answer": str(2**191)}, {"answer": "1.5"}, {"observed_at": -1}, {"status": "landed"},
    {"signers": [KEYS[1].address, KEYS[1].address.lower()]},
    {"signers": [KEYS[1].address] * 65}, {"decided_at": "2026-01-01T00:00:00"},
    {"decided_at": (NOW + timedelta(days=2)).isoformat()}, {"surplus": 1},
])
def test_report__invalid_round__422_nothing_stored(client, validator, db, bad):
    response = post(client, validator, [round_(1), {**round_(2), **bad}])
    assert response.status_code == 422, response.text
    assert stored(db) == 0


@pytest.mark.parametrize("count", [0, 101])
def test_report__batch_size_outside_1_to_100__422(make_client, settings, validator, count):
    roomy = make_client(settings.model_copy(update={"max_body_bytes": 1_000_000}))
    rounds = [round_(number) for number in range(1, count + 1)]
    assert post(roomy, validator, rounds).status_code == 422


# the chain's word
def test_listing__transmitted_on_chain__tx_hash_answer_and_signers_from_the_event(
        client, ops, feed, validator):
    post(client, validator, [round_(1, status="transmitted"), round_(2, status="transmitted")])
    receipt = transmit(ops, feed, 1)
    assert {item["status"] for item in listed(client)} == {"agreed"}  # not indexed yet
    ops.index()
    by_round = {item["round"]: item for item in listed(client)}
    landed = by_round[1]
    assert (landed["status"], landed["transmit_tx_hash"], landed["block_number"]) == \
        ("transmitted", "0x" + receipt["transactionHash"].hex().removeprefix("0x"),
         receipt["blockNumber"])
    assert (landed["signers"], landed["transmitter"], landed["agrees_with_chain"]) == \
        ([KEYS[GENESIS].address], KEYS[0].address, True)
    assert (by_round[2]["status"], by_round[2]["reported_status"]) == ("agreed", "transmitted")


def test_listing__node_claims_another_answer__chain_value_shown_disagreement_flagged(
        client, ops, feed, validator):
    post(client, validator, [round_(1, answer=ANSWER + 1)])
    transmit(ops, feed, 1)
    ops.index()
    (item,) = listed(client)
    assert (item["value"], item["agrees_with_chain"]) == (str(ANSWER), False)


def test_listing__filters_and_cursor_pages(client, ops, feed, validator, second):
    post(client, validator, [round_(number) for number in range(1, 6)])
    post(client, second, [round_(3, leader=KEYS[SECOND].address, view=4, status="failed")])
    transmit(ops, feed, 2, signers=(GENESIS, SECOND))
    ops.index()
    assert [item["round"] for item in listed(client, status="transmitted")] == [2]
    assert [(item["round"], item["reported_by"]) for item in listed(client, status="failed")] \
        == [(3, KEYS[SECOND].address)]
    assert len(listed(client, status="agreed")) == 4
    assert [item["round"] for item in listed(client, leader=KEYS[SECOND].address.lower())] \
        == [3]
    assert sorted(item["round"] for item in listed(client, from_round=2, to_round=3)) \
        == [2, 3, 3]
    assert listed(client, feed="EURUSD") == []
    seen, cursor = [], None
    while True:
        page = client.get("/network/rounds", params={
            "limit": 2, "feed": FEED, **({"cursor": cursor} if cursor else {})}).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [item["id"] for item in seen] == [item["id"] for item in listed(client)]
    assert len(seen) == 6


@pytest.mark.parametrize(("params", "status"), [
    ({"limit": 0}, 422), ({"limit": 1001}, 422), ({"cursor": "nonsense"}, 400),
    ({"leader": "0x12"}, 422), ({"status": "landed"}, 422), ({"feed": "sp 500"}, 422),
    ({"from_round": 0}, 422), ({"to_round": 2**32}, 422),
])
def test_listing__bad_filter__4xx(client, params, status):
    assert client.get("/network/rounds", params=params).status_code == status


def test_listing__anonymous_and_limited_per_client(make_client, settings):
    tight = make_client(settings.model_copy(update=TIGHT))
    assert [tight.get("/network/rounds").status_code for _ in range(4)] == [200] * 4
    assert_limited(tight.get("/network/rounds"))


ROUNDS = 20000


@pytest.fixture
def many_rounds(db):
    db.execute(
        "INSERT INTO consensus_rounds (feed, feed_address, round, reporter, view, leader,"
        " answer, observed_at, signers, status, decided_at, recorded_at)"
        " SELECT 'F' || mod(g, 20), '0xfeed', g, '0xabc', g, '0x' || md5(mod(g, 7)::text), 1,"
        " g, '{}', (ARRAY['agreed', 'transmitted', 'failed'])[1 + mod(g, 3)], now(),"
        " now() - g * interval '1 second' FROM generate_series(1, %s) g", (ROUNDS,))
    db.execute("ANALYZE consensus_rounds")


@pytest.mark.parametrize("where", [
    "true", "feed = 'F7'", "leader = '0xabc'", "status = 'failed'",
    "feed = 'F7' AND (recorded_at, id) < (now(), 100)",
])
def test_listing__answered_by_an_index__no_seq_scan(db, many_rounds, where):
    row = db.execute("EXPLAIN (FORMAT JSON) SELECT * FROM consensus_rounds WHERE "
                     f"{where} ORDER BY recorded_at DESC, id DESC LIMIT 101").fetchone()
    chosen = json.dumps(row[0])
    assert "Seq Scan" not in chosen and "Index" in chosen, chosen


# the typed client
def test_client_calls__report_and_read_back(client, ops, feed, validator):
    reports = [RoundReport.model_validate(round_(number)) for number in (1, 2)]
    assert sum(answer(client, call, validator)
               for call in endpoints.report_rounds(reports)) == 2
    transmit(ops, feed, 2)
    ops.index()
    page = answer(client, endpoints.network_rounds(feed=FEED, status="transmitted", limit=10))
    (item,) = page.items
    assert (item.round, item.status, item.value, page.next_cursor) == \
        (2, "transmitted", ANSWER, None)
    assert item.transmit_tx_hash is not None


@pytest.fixture
def many_transmitted(db, many_rounds):
    db.execute(
        "INSERT INTO chain_events (chain_id, block_number, block_hash, block_timestamp, tx_hash,"
        " tx_index, log_index, contract_name, contract_address, event_name, args, topics, data)"
        " SELECT 31337, g, '0x', now(), '0x' || md5(g::text), 0, 0, 'NodeFeed.F', '0xfeed',"
        " 'Transmitted', jsonb_build_object('round', g, 'answer', '1', 'observed_at', g,"
        " 'transmitter', '0xabc', 'signers', jsonb_build_array('0xabc')), '{}', '0x'"
        " FROM generate_series(1, %s) g", (ROUNDS,))
    db.execute("ANALYZE chain_events")


@pytest.mark.parametrize("where", ["", "WHERE r.round > 19000", "WHERE t.tx_hash IS NOT NULL"])
def test_listing__transmitted_event_found_by_the_args_index(db, many_transmitted, where):
    query = mirror.ROUNDS_SQL.format(where=where).replace("%(chain_id)s", "31337") \
        .replace("%(limit)s", "101")
    row = db.execute(f"EXPLAIN (FORMAT JSON) {query}").fetchone()
    chosen = json.dumps(row[0])
    assert "Seq Scan" not in chosen and "chain_events_args" in chosen, chosen
