"""The node network in the backend, on real anvil and PostgreSQL: the license watch a node
long-polls (woken by the indexer's commit), heartbeats and execution records gated by the
license in the mirror, and the public monitoring reads."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
import uvicorn
from fastapi import FastAPI

from backend.api.app import create_app
from client import endpoints
from client.models import ExecutionRecord
from noderr.catalogue import CATALOGUE
from noderr.domain import NodeType
from noderr.execution_results import DoubleSign, ExecutionResult
from noderr.ports import free_port
from tests.backend.helpers import bearer, sign_in
from tests.backend.siwe_helpers import KEYS, sign, siwe_text
from tests.backend.test_caller_cache import callers, wait_until
from tests.backend.test_cost_limits import TIGHT, assert_limited
from tests.fixtures_chain import GENESIS_VALIDATOR

ORACLE, GUARDIAN, VALIDATOR = 1, 2, 3
OPERATOR, OTHER = KEYS[1].address, KEYS[2].address
NOW = datetime.now(UTC)


@pytest.fixture
def operator(client):
    return bearer(sign_in(client, 1))


@pytest.fixture
def watches(client):
    """Start watches in threads: each returns the Future of its response once it waits."""
    with ThreadPoolExecutor(4) as pool:

        def start(headers, after_block: int, timeout_s: float = 30) -> Future:
            waiting = callers(client).waiters
            future = pool.submit(client.get, "/nodes/me/watch", headers=headers,
                                 params={"after_block": after_block, "timeout_s": timeout_s})
            wait_until(lambda: callers(client).waiters == waiting + 1 or future.done())
            return future

        yield start


def watch(client, headers, **params):
    return client.get("/nodes/me/watch", headers=headers, params=params)


def run(function="compute_vwap", outcome="ok", error=None, started_at=NOW, duration_ms=1.5):
    return {"function": function, "started_at": started_at.isoformat(),
            "duration_ms": duration_ms, "outcome": outcome, "error": error}


def report(client, headers, token_id, runs, node_type=ORACLE):
    return client.post("/nodes/executions", headers=headers,
                       json={"node_type": node_type, "token_id": token_id, "executions": runs})


def beat(client, headers, token_id, node_type=ORACLE, state="active", version="0.1.0"):
    return client.post("/nodes/heartbeat", headers=headers, json={
        "node_type": node_type, "token_id": token_id, "software_version": version,
        "state": state})


def stored_executions(db) -> int:
    return db.execute("SELECT count(*) FROM node_executions").fetchone()[0]


# the catalogue
def test_functions__equal_the_catalogue(client):
    response = client.get("/network/functions")
    assert response.status_code == 200
    assert response.json() == [
        {"name": spec.name, "node_type": int(spec.node_type),
         "node_type_name": spec.node_type.label, "category": spec.category,
         "description": spec.description} for spec in CATALOGUE]


def test_functions__stale_rows__replaced_at_start(make_client, client, db):
    db.execute("INSERT INTO node_functions VALUES ('retired_function', 99, 1, 'c', 'd')")
    db.execute("UPDATE node_functions SET description = 'old' WHERE name = 'compute_vwap'")
    rows = make_client().get("/network/functions").json()
    assert len(rows) == len(CATALOGUE) and "retired_function" not in {r["name"] for r in rows}
    assert {r["name"]: r["description"] for r in rows}["compute_vwap"] \
        == "volume-weighted average price"


# the license watch
def test_watch__without_after_block__every_held_license_at_once(client, ops, operator):
    oracle = ops.mint(OPERATOR, ORACLE)
    guardian = ops.mint(OPERATOR, GUARDIAN)
    ops.suspend(guardian)
    indexed = ops.index()
    response = watch(client, operator)
    assert response.status_code == 200, response.text
    assert response.json() == {"address": OPERATOR, "indexed_block": indexed, "licenses": [
        {"token_id": oracle, "node_type": ORACLE, "node_type_name": "Oracle",
         "status": "active"},
        {"token_id": guardian, "node_type": GUARDIAN, "node_type_name": "Guardian",
         "status": "suspended"}]}


def test_watch__no_license__200_with_none(client, ops, operator):
    ops.index()
    assert watch(client, operator).json()["licenses"] == []


def test_watch__no_session__401(client, ops):
    ops.index()
    response = watch(client, {}, after_block=1)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_watch__after_an_older_block__answers_at_once(client, ops, operator):
    ops.mint(OPERATOR, ORACLE)
    indexed = ops.index()
    assert watch(client, operator, after_block=indexed - 1, timeout_s=30).json()[
        "indexed_block"] == indexed


def test_watch__timeout__the_current_state(client, ops, operator):
    indexed = ops.index()
    response = watch(client, operator, after_block=indexed, timeout_s=0)
    assert response.status_code == 200 and response.json()["indexed_block"] == indexed


def test_watch__suspended_while_waiting__answers_at_the_commit(client, ops, operator,
                                                              watches):
    token_id = ops.mint(OPERATOR, ORACLE)
    indexed = ops.index()
    waiting = watches(operator, indexed)
    ops.suspend(token_id)
    assert not waiting.done()
    committed = ops.index()
    answer = waiting.result(timeout=30).json()
    assert answer["indexed_block"] == committed > indexed
    assert [(item["token_id"], item["status"]) for item in answer["licenses"]] == [
        (token_id, "suspended")]


def test_watch__revoked_while_waiting__license_absent(client, ops, operator, watches):
    token_id = ops.mint(OPERATOR, GUARDIAN)
    waiting = watches(operator, ops.index())
    ops.revoke(token_id)
    ops.index()
    assert waiting.result(timeout=30).json()["licenses"] == []


def test_watch__reassigned_while_waiting__absent_for_the_old_owner(client, ops, operator,
                                                                  watches):
    token_id = ops.mint(OPERATOR, ORACLE)
    indexed = ops.index()
    other = bearer(sign_in(client, 2))
    old_owner, new_owner = watches(operator, indexed), watches(other, indexed)
    ops.reassign(token_id, OTHER)
    ops.index()
    assert old_owner.result(timeout=30).json()["licenses"] == []
    assert [item["token_id"] for item in new_owner.result(timeout=30).json()["licenses"]] \
        == [token_id]


def test_watch__waiting__holds_no_database_connection(make_client, settings, ops):
    ops.mint(OPERATOR, ORACLE)
    indexed = ops.index()
    client = make_client(settings.model_copy(update={"db_pool_size": 1}))
    headers = bearer(sign_in(client, 1))
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(watch, client, headers, after_block=indexed, timeout_s=30)
        wait_until(lambda: callers(client).waiters == 1)
        assert client.get("/network/functions").status_code == 200  # the one connection
        stats = client.app.state.backend.db.pool.get_stats()
        assert stats["pool_available"] == stats["pool_size"]
        ops.mine(1)
        ops.index()
        assert waiting.result(timeout=30).status_code == 200


def test_watch__caller_cache_off__answers_by_reading_the_checkpoint(make_client, settings,
                                                                    ops):
    client = make_client(settings.model_copy(update={"caller_cache": False}))
    token_id = ops.mint(OPERATOR, ORACLE)
    indexed = ops.index()
    headers = bearer(sign_in(client, 1))
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(watch, client, headers, after_block=indexed, timeout_s=30)
        wait_until(lambda: callers(client).waiters == 1)
        ops.revoke(token_id)
        ops.index()
        assert waiting.result(timeout=30).json()["licenses"] == []


def test_watch__every_waiting_place_taken__503(client, ops, operator):
    indexed = ops.index()
    callers(client).max_waiters = 0
    response = watch(client, operator, after_block=indexed, timeout_s=1)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "too many license watches" in response.json()["detail"]


def test_watch__lagging_mirror__503_with_retry_after(client, ops, operator):
    ops.index()
    ops.mine(6)  # NODERR_MAX_LAG_BLOCKS is 5
    response = watch(client, operator)
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert "6 blocks behind" in response.json()["detail"]


@pytest.mark.parametrize("params", [{"timeout_s": 31}, {"timeout_s": -1},
                                    {"after_block": -1}, {"after_block": "x"}])
def test_watch__bad_parameters__422(client, operator, params):
    assert watch(client, operator, **params).status_code == 422


# heartbeats
def test_heartbeat__owned_suspended_license__200_and_recorded(client, ops, operator, db):
    token_id = ops.mint(OPERATOR, ORACLE)
    ops.suspend(token_id)
    indexed = ops.index()
    response = beat(client, operator, token_id, state="suspended")
    assert response.status_code == 200, response.text
    assert response.json() == {"recorded": True, "indexed_block": indexed}
    assert db.execute("SELECT address, token_id, node_type, state, software_version "
                      "FROM node_health").fetchall() == [
        (OPERATOR.lower(), token_id, ORACLE, "suspended", "0.1.0")]


def test_heartbeat__not_owned_wrong_type_unknown_revoked__403_naming_the_token(client, ops,
                                                                             operator):
    mine = ops.mint(OPERATOR, GUARDIAN)
    theirs = ops.mint(OTHER, ORACLE)
    revoked = ops.mint(OPERATOR, ORACLE)
    ops.revoke(revoked)
    ops.index()
    refusals = {
        theirs: beat(client, operator, theirs),
        mine: beat(client, operator, mine, node_type=ORACLE),
        999: beat(client, operator, 999),
        revoked: beat(client, operator, revoked)}
    assert {token: r.status_code for token, r in refusals.items()} == dict.fromkeys(refusals, 403)
    assert refusals[theirs].json()["detail"] == f"{OPERATOR} does not own license {theirs}"
    assert refusals[mine].json()["detail"] == \
        f"license {mine} is a Guardian license, not Oracle"
    assert refusals[999].json()["detail"] == "no license 999 in the mirror"
    assert refusals[revoked].json()["detail"] == f"license {revoked} is revoked"


def test_heartbeat__after_stopping__started_again(client, ops, operator, db):
    token_id = ops.mint(OPERATOR, ORACLE)
    ops.index()
    beat(client, operator, token_id)
    db.execute("UPDATE node_health SET started_at = started_at - interval '1 hour'")
    first = db.execute("SELECT started_at FROM node_health").fetchone()[0]
    beat(client, operator, token_id)
    assert db.execute("SELECT started_at FROM node_health").fetchone()[0] == first
    beat(client, operator, token_id, state="stopping")
    beat(client, operator, token_id)
    assert db.execute("SELECT started_at FROM node_health").fetchone()[0] > first


@pytest.mark.parametrize("body", [
    {"node_type": 4}, {"software_version": ""}, {"software_version": "v" * 65},
    {"software_version": "1.0\n"}, {"state": "running"}, {"token_id": -1},
])
def test_heartbeat__bad_body__422(client, operator, body):
    good = {"node_type": 1, "token_id": 1, "software_version": "1", "state": "active"}
    response = client.post("/nodes/heartbeat", headers=operator, json={**good, **body})
    assert response.status_code == 422


def test_heartbeat__no_session__401(client):
    assert client.post("/nodes/heartbeat", json={
        "node_type": 1, "token_id": 1, "software_version": "1",
        "state": "active"}).status_code == 401


# execution records
def test_executions__active_license__stored_and_listed_newest_first(client, ops, operator,
                                                                    db):
    token_id = ops.mint(OPERATOR, ORACLE)
    ops.index()
    runs = [run(started_at=NOW - timedelta(seconds=3)),
            run("compute_twap", "rejected", "EmptyInput: no prices",
                started_at=NOW - timedelta(seconds=2)),
            run("detect_source_outliers", "error", "ValueError: x",
                started_at=NOW - timedelta(seconds=1))]
    response = report(client, operator, token_id, runs)
    assert response.status_code == 200 and response.json() == {"accepted": 3}
    page = client.get("/network/executions").json()
    assert page["next_cursor"] is None
    assert [(item["function"], item["outcome"], item["error"]) for item in page["items"]] == [
        ("detect_source_outliers", "error", "ValueError: x"),
        ("compute_twap", "rejected", "EmptyInput: no prices"),
        ("compute_vwap", "ok", None)]
    first = page["items"][0]
    assert (first["address"], first["node_type"], first["node_type_name"], first["token_id"]) \
        == (OPERATOR, ORACLE, "Oracle", token_id)
    assert datetime.fromisoformat(first["started_at"]) == NOW - timedelta(seconds=1)


def test_executions__suspended_license__403_nothing_stored(client, ops, operator, db):
    token_id = ops.mint(OPERATOR, ORACLE)
    ops.suspend(token_id)
    ops.index()
    response = report(client, operator, token_id, [run()])
    assert response.status_code == 403
    assert response.json()["detail"] == f"{OPERATOR} holds no active Oracle license"
    assert stored_executions(db) == 0


def test_executions__another_token__403(client, ops, operator, db):
    token_id = ops.mint(OPERATOR, ORACLE)
    theirs = ops.mint(OTHER, ORACLE)
    ops.index()
    response = report(client, operator, theirs, [run()])
    assert response.status_code == 403
    assert f"license {theirs} is not {OPERATOR}'s active Oracle license (that is {token_id})" \
        == response.json()["detail"]
    assert stored_executions(db) == 0


@pytest.mark.parametrize(("function", "reason"), [
    ("make_coffee", "not in the catalogue"),
    ("compute_var_historical", "a Guardian function"),
])
def test_executions__function_not_of_the_node_type__422_naming_it_nothing_stored(
        client, ops, operator, db, function, reason):
    token_id = ops.mint(OPERATOR, ORACLE)
    ops.index()
    response = report(client, operator, token_id, [run(), run(function)])
    assert response.status_code == 422
    assert f"executions[1].function {function!r} is {reason}" in response.json()["detail"]
    assert stored_executions(db) == 0


@pytest.mark.parametrize("change", [
    {"duration_ms": -1}, {"outcome": "maybe"}, {"error": "e" * 501},
    {"started_at": "2026-01-01T00:00:00"}, {"started_at": "1999-12-31T23:59:59+00:00"},
    {"started_at": (NOW + timedelta(days=2)).isoformat()},
])
def test_executions__bad_record__422(client, operator, change):
    response = report(client, operator, 1, [{**run(), **change}])
    assert response.status_code == 422, response.text


def test_executions__not_finite_duration__422(client, operator):
    body = json.dumps({"node_type": 1, "token_id": 1, "executions": [
        {**run(), "duration_ms": "__inf__"}]}).replace('"__inf__"', "Infinity")
    response = client.post("/nodes/executions", content=body, headers={
        **operator, "Content-Type": "application/json"})
    assert response.status_code == 422


DOUBLE_SIGN = {"signer": OTHER, "round": 12, "view": 1, "phase": "pre_prepare",
               "evidence": "ab" * 32}


def test_executions__double_sign_result__stored_and_listed_as_reported(client, ops, operator,
                                                                      db):
    token_id = ops.mint(OPERATOR, VALIDATOR)
    ops.index()
    runs = [run("detect_double_sign", started_at=NOW - timedelta(seconds=1)),
            {**run("detect_double_sign"), "result": {"double_signs": [DOUBLE_SIGN]}}]
    assert report(client, operator, token_id, runs, VALIDATOR).json() == {"accepted": 2}
    page = client.get("/network/executions", params={"function": "detect_double_sign"}).json()
    assert [item["result"] for item in page["items"]] == [
        {"double_signs": [DOUBLE_SIGN], "low_scores": None}, None]


MALFORMED_RESULTS = [
    ({"double_signs": [DOUBLE_SIGN] * 33}, "at most 32 items"),
    ({"double_signs": [DOUBLE_SIGN], "blob": "x" * 20_000}, "blob: Extra inputs"),
    ({"double_signs": [{**DOUBLE_SIGN, "signer": "nobody"}]}, "signer: String should match"),
    ({"double_signs": [{**DOUBLE_SIGN, "phase": "view_change"}]}, "phase: Input should be"),
    ({"double_signs": [{**DOUBLE_SIGN, "note": "x"}]}, "note: Extra inputs"),
    ({"low_scores": [{"peer": OTHER, "score": 0.1}]},
     "result.low_scores is not a result of detect_double_sign (detect_double_sign's is "
     "double_signs)"),
    ("x" * 1000, "result: Input should be a valid dictionary"),
]


def test_executions__malformed_or_oversized_result__422_with_reason_nothing_lost(
        client, ops, operator, db):
    token_id = ops.mint(OPERATOR, VALIDATOR)
    ops.index()
    kept = {**run("detect_double_sign"), "result": {"double_signs": [DOUBLE_SIGN]}}
    assert report(client, operator, token_id, [kept], VALIDATOR).status_code == 200
    for result, reason in MALFORMED_RESULTS:
        response = report(client, operator, token_id,
                          [run("detect_double_sign"), {**run("detect_double_sign"),
                                                       "result": result}], VALIDATOR)
        detail = response.json()["detail"]
        assert response.status_code == 422 and "executions.1" in detail, detail
        assert reason in detail, detail
    assert db.execute("SELECT result FROM node_executions").fetchall() == [
        ({"double_signs": [DOUBLE_SIGN]},)]


def test_executions__result_of_a_function_that_reports_none__422(client, ops, operator):
    token_id = ops.mint(OPERATOR, VALIDATOR)
    ops.index()
    response = report(client, operator, token_id, [
        {**run("validate_tx_signature"), "result": {"double_signs": [DOUBLE_SIGN]}}],
        VALIDATOR)
    assert response.status_code == 422
    assert "result.double_signs is not a result of validate_tx_signature " \
        "(validate_tx_signature reports none)" in response.json()["detail"]


def test_execution_result_column__over_the_size_bound__refused_by_the_database(db):
    with pytest.raises(psycopg.errors.CheckViolation, match="node_executions_result_check"):
        db.execute(
            "INSERT INTO node_executions (address, node_type, token_id, function, started_at,"
            " duration_ms, outcome, result) VALUES ('0xa', 3, 1, 'detect_double_sign', now(),"
            " 1, 'ok', jsonb_build_object('blob', repeat('x', 16384)))")


@pytest.mark.parametrize("count", [0, 501])
def test_executions__batch_size_outside_1_to_500__422(client, operator, count):
    assert report(client, operator, 1, [run()] * count).status_code == 422


def test_executions_listing__filters_and_cursor_pages(client, ops, operator):
    mine = ops.mint(OPERATOR, ORACLE)
    theirs = ops.mint(OTHER, ORACLE)
    ops.index()
    other = bearer(sign_in(client, 2))
    report(client, operator, mine, [run(started_at=NOW - timedelta(seconds=s))
                                    for s in range(5)])
    report(client, other, theirs, [run("compute_twap", "error", "boom")])
    by_node = client.get("/network/executions", params={"node": OTHER.lower()}).json()
    assert [item["function"] for item in by_node["items"]] == ["compute_twap"]
    assert len(client.get("/network/executions",
                          params={"function": "compute_vwap"}).json()["items"]) == 5
    assert [item["address"] for item in client.get(
        "/network/executions", params={"outcome": "error"}).json()["items"]] == [OTHER]
    seen, cursor = [], None
    while True:
        page = client.get("/network/executions", params={
            "limit": 2, "function": "compute_vwap", **({"cursor": cursor} if cursor else {})})
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert [datetime.fromisoformat(item["started_at"]) for item in seen] == [
        NOW - timedelta(seconds=s) for s in range(5)]


@pytest.mark.parametrize(("params", "status"), [
    ({"function": "make_coffee"}, 422), ({"node": "0x123"}, 422), ({"outcome": "maybe"}, 422),
    ({"limit": 0}, 422), ({"limit": 1001}, 422), ({"cursor": "nonsense"}, 400),
    ({"cursor": "MjAyNi0wMS0wMVQwMDowMDowMHwx"}, 400),  # a naive time: "2026-01-01T00:00:00|1"
])
def test_executions_listing__bad_filter__4xx(client, params, status):
    response = client.get("/network/executions", params=params)
    assert response.status_code == status, response.text


EXECUTIONS = 20000


@pytest.fixture
def many_executions(db):
    db.execute(
        "INSERT INTO node_executions (address, node_type, token_id, function, started_at,"
        " duration_ms, outcome) SELECT '0x' || md5(g::text), 1, g, 'f' || mod(g, 50),"
        " now() - g * interval '1 second', 1, (ARRAY['ok', 'rejected', 'error'])[1 + mod(g, 3)]"
        " FROM generate_series(1, %s) g", (EXECUTIONS,))
    db.execute("ANALYZE node_executions")


@pytest.mark.parametrize("where", [
    "true", "function = 'f7'", "address = '0xabc'", "outcome = 'error'",
    "function = 'f7' AND (started_at, id) < (now(), 100)",
])
def test_executions_listing__answered_by_an_index__no_seq_scan(db, many_executions, where):
    row = db.execute("EXPLAIN (FORMAT JSON) SELECT * FROM node_executions WHERE "
                     f"{where} ORDER BY started_at DESC, id DESC LIMIT 101").fetchone()
    chosen = json.dumps(row[0])
    assert "Seq Scan" not in chosen and "Index" in chosen, chosen


# node health
def test_nodes__active_suspended_stale_and_stopped(client, ops, db):
    headers = {index: bearer(sign_in(client, index)) for index in (1, 2, 3, 4, 5)}
    tokens = {index: ops.mint(KEYS[index].address, ORACLE) for index in headers}
    ops.index()
    for index in headers:
        assert beat(client, headers[index], tokens[index]).status_code == 200
    ops.suspend(tokens[2])
    ops.reassign(tokens[5], KEYS[6].address)
    ops.index()
    beat(client, headers[4], tokens[4], state="stopping")
    db.execute("UPDATE node_health SET last_heartbeat = now() - interval '31 seconds' "
               "WHERE address = %s", (KEYS[3].address.lower(),))
    rows = {row["address"]: row for row in client.get("/network/nodes").json()}
    assert {KEYS[index].address: rows[KEYS[index].address]["status"] for index in headers} == {
        KEYS[1].address: "active", KEYS[2].address: "suspended", KEYS[3].address: "stale",
        KEYS[4].address: "stopped", KEYS[5].address: "stopped"}
    first = rows[KEYS[1].address]
    assert (first["node_type"], first["node_type_name"], first["token_id"],
            first["software_version"]) == (ORACLE, "Oracle", tokens[1], "0.1.0")


def test_nodes__stale_after_setting(make_client, settings, ops, db):
    client = make_client(settings.model_copy(update={"node_stale_after": 3600}))
    token_id = ops.mint(OPERATOR, ORACLE)
    ops.index()
    beat(client, bearer(sign_in(client, 1)), token_id)
    db.execute("UPDATE node_health SET last_heartbeat = now() - interval '31 seconds'")
    assert [row["status"] for row in client.get("/network/nodes").json()] == ["active"]


# members
def test_members__active_licenses_only_by_address(client, ops):
    tokens = {index: ops.mint(KEYS[index].address, GUARDIAN) for index in (3, 1, 2)}
    ops.suspend(tokens[2])
    ops.revoke(tokens[3])
    indexed = ops.index()
    answer = client.get("/network/members").json()
    assert answer["indexed_block"] == indexed
    expected = sorted([
        {"address": KEYS[1].address, "node_type": GUARDIAN, "token_id": tokens[1]},
        {"address": GENESIS_VALIDATOR, "node_type": VALIDATOR, "token_id": 1},
    ], key=lambda member: member["address"].lower())
    assert answer["members"] == expected


# what anyone may call
@pytest.mark.parametrize("path", ["/network/functions", "/network/nodes",
                                  "/network/executions", "/network/members"])
def test_public_reads__anonymous_and_limited_per_client(make_client, settings, path):
    tight = make_client(settings.model_copy(update=TIGHT))
    statuses = [tight.get(path).status_code for _ in range(4)]
    assert statuses == [200] * 4
    assert_limited(tight.get(path))


# the typed client's calls read the real answers
def answer(client, call, headers=None):
    response = client.request(call.method, call.path, params=call.params, json=call.body,
                              headers=headers)
    return call.answer(response)


def test_client_calls__execution_result__reported_and_read_back(client, ops, operator):
    token_id = ops.mint(OPERATOR, VALIDATOR)
    ops.index()
    found = ExecutionResult(double_signs=[DoubleSign(**DOUBLE_SIGN)])
    record = ExecutionRecord(function="detect_double_sign", started_at=NOW, duration_ms=2.0,
                             outcome="ok", result=found)
    (batch,) = endpoints.report_executions(NodeType.VALIDATOR, token_id, [record])
    assert answer(client, batch, operator) == 1
    page = answer(client, endpoints.network_executions("detect_double_sign", OPERATOR, None, 10,
                                                      None))
    assert [item.result for item in page.items] == [found]


def test_client_calls__read_the_backends_answers(client, ops, operator):
    token_id = ops.mint(OPERATOR, ORACLE)
    indexed = ops.index()
    watched = answer(client, endpoints.watch_licenses(None, 0), operator)
    assert watched.indexed_block == indexed
    assert watched.license(NodeType.ORACLE).token_id == token_id
    ack = answer(client, endpoints.heartbeat(NodeType.ORACLE, token_id, "0.1.0", "active"),
                 operator)
    assert ack.recorded and ack.indexed_block == indexed
    record = ExecutionRecord(function="compute_vwap", started_at=NOW, duration_ms=2.0,
                             outcome="ok")
    (batch,) = endpoints.report_executions(NodeType.ORACLE, token_id, [record])
    assert answer(client, batch, operator) == 1
    page = answer(client, endpoints.network_executions("compute_vwap", OPERATOR, "ok", 10,
                                                      None))
    assert [(item.function, item.started_at, item.token_id) for item in page.items] == [
        ("compute_vwap", NOW, token_id)]
    assert len(answer(client, endpoints.network_functions())) == len(CATALOGUE)
    (node,) = answer(client, endpoints.network_nodes())
    assert (node.address, node.status) == (OPERATOR, "active")
    members = answer(client, endpoints.network_members())
    assert (OPERATOR, NodeType.ORACLE, token_id) in {
        (member.address, member.node_type, member.token_id) for member in members.members}


@pytest.fixture
def served(chain, database_url, settings, db, w3) -> Iterator[tuple[str, FastAPI]]:
    """The app behind a real uvicorn on a free port, in a thread."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    app = create_app(settings.model_copy(update={"siwe_domains": [origin]}), chain[1],
                     database_url, chain[0])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started)
    try:
        yield origin, app
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_watch__client_gone__its_waiting_place_freed(served, ops):
    base, app = served
    indexed = ops.index()
    with httpx.Client(base_url=base) as http:
        nonce = http.get("/auth/nonce").json()["nonce"]
        text = siwe_text(OPERATOR, nonce, domain=base.removeprefix("http://"), uri=base)
        token = http.post("/auth/verify", json={"message": text,
                                                "signature": sign(text, 1)}).json()["token"]
        wait_until(lambda: app.state.backend.callers.listening)
        with pytest.raises(httpx.ReadTimeout):
            http.get("/nodes/me/watch", headers=bearer(token), timeout=1.0,
                     params={"after_block": indexed, "timeout_s": 30})
    wait_until(lambda: app.state.backend.callers.waiters == 0)
