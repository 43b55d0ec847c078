"""What the clients send and how they read the answers, against the tiny local server: typed
answers, the session token as a bearer, unset filters left out."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from client import AsyncBackendClient, BackendClient, BackendError, Call, EventFilters, endpoints
from client.endpoints import json_body
from client.models import ExecutionItem, ExecutionRecord, LicensedNode, Me, RoundReport
from noderr.domain import NodeType
from tests.client.conftest import EXECUTIONS, ME, SLOW_SECONDS, Send

ECHO = Call("GET", "/echo", json_body(dict))
TOKEN = "s3ss10n"  # noqa: S105 - a test value


def test_me__typed_answer__node_type_and_uint256_token_id(send: Send, server: str):
    me = send(server, endpoints.me())
    assert isinstance(me, Me) and me.address == ME["address"] and me.roles == ["MINTER_ROLE"]
    (held,) = me.licenses
    assert held.node_type is NodeType.VALIDATOR and held.token_id == 2**200


def test_nodes_me__typed_answer(send: Send, server: str):
    node = send(server, endpoints.nodes_me())
    assert isinstance(node, LicensedNode) and node.licenses[0].node_type.label == "Validator"


def test_vault__secret_and_list__typed_answers(send: Send, server: str):
    secret = send(server, endpoints.get_secret(7, "binance", None))
    assert (secret.version, secret.data) == (2, {"api_key": "k", "api_secret": "s"})
    assert secret.created_at == datetime(2026, 11, 26, 12, 0, 0, 123, tzinfo=UTC)
    (summary,) = send(server, endpoints.list_secrets(7))
    assert (summary.name, summary.latest_version, summary.versions) == ("binance", 2, 2)


def test_token__sent_as_bearer(send: Send, server: str):
    assert send(server, ECHO, token=TOKEN)["authorization"] == f"Bearer {TOKEN}"
    assert send(server, ECHO)["authorization"] is None


def test_event_filters__unset_ones_left_out(send: Send, server: str):
    filters = EventFilters(contract="NodeLicense", event="", token_id=0,
                           since=datetime(2026, 1, 2, tzinfo=UTC))
    echoed = send(server, replace(endpoints.events(filters, None, 5), path="/echo",
                                 read=json_body(dict)))
    assert echoed["query"] == ("contract=NodeLicense&token_id=0"
                               "&since=2026-01-02T00%3A00%3A00%2B00%3A00&limit=5")


def test_put_secret__json_body(send: Send, server: str):
    call = replace(endpoints.put_secret(7, "binance", {"api_key": "k"}), path="/echo",
                   read=json_body(dict))
    echoed = send(server, call)
    assert (echoed["method"], echoed["body"]) == ("PUT", {"data": {"api_key": "k"}})


def test_logout__blocking__session_token_dropped(server: str):
    with BackendClient(server, token=TOKEN) as client:
        client.logout()
        assert client.call(ECHO)["authorization"] is None


def test_logout__asyncio__session_token_dropped(server: str):
    async def go() -> Any:
        async with AsyncBackendClient(server, token=TOKEN) as client:
            await client.logout()
            return await client.call(ECHO)

    assert asyncio.run(go())["authorization"] is None


def test_per_call_timeout__outlasts_the_clients_default(server: str):
    slow = Call("GET", "/slow", json_body(str, key="nonce"))
    patient = replace(slow, timeout=SLOW_SECONDS * 10)
    with BackendClient(server, timeout=SLOW_SECONDS / 5) as client:
        assert client.call(patient) == "late"
        with pytest.raises(BackendError) as caught:
            client.call(slow)
    assert caught.value.unreachable

    async def asynchronously() -> str:
        async with AsyncBackendClient(server, timeout=SLOW_SECONDS / 5) as client:
            return await client.call(patient)

    assert asyncio.run(asynchronously()) == "late"


def test_watch_licenses__parameters_and_a_timeout_beyond_the_wait(send: Send, server: str):
    call = endpoints.watch_licenses(41, 25)
    assert call.timeout is not None and call.timeout > 25
    echoed = send(server, replace(call, path="/echo", read=json_body(dict)))
    assert (echoed["method"], echoed["query"]) == ("GET", "after_block=41&timeout_s=25")
    assert "after_block" not in endpoints.watch_licenses(None, 0).params


def test_heartbeat__json_body(send: Send, server: str):
    call = endpoints.heartbeat(NodeType.ORACLE, 2**200, "0.1.0", "suspended")
    echoed = send(server, replace(call, path="/echo", read=json_body(dict)))
    assert (echoed["method"], echoed["body"]) == ("POST", {
        "node_type": 1, "token_id": 2**200, "software_version": "0.1.0", "state": "suspended"})


RECORD = ExecutionRecord(function="compute_vwap", started_at=datetime(2026, 1, 2, tzinfo=UTC),
                         duration_ms=1.25, outcome="ok")


def test_report_executions__records_as_json(send: Send, server: str):
    (call,) = endpoints.report_executions(NodeType.ORACLE, 7, [RECORD])
    echoed = send(server, replace(call, path="/echo", read=json_body(dict)))
    assert echoed["body"] == {"node_type": 1, "token_id": 7, "executions": [
        {"function": "compute_vwap", "started_at": "2026-01-02T00:00:00Z", "duration_ms": 1.25,
         "outcome": "ok", "error": None}]}


def test_report_executions__batches_within_the_backends_limits():
    assert endpoints.report_executions(1, 7, []) == []
    counts = [len(call.body["executions"]) for call in
              endpoints.report_executions(1, 7, [RECORD] * 1201)]
    assert counts == [500, 500, 201]
    failing = RECORD.model_copy(update={"outcome": "error", "error": "E" * 500})
    calls = endpoints.report_executions(1, 7, [failing] * 300)
    assert sum(len(call.body["executions"]) for call in calls) == 300
    assert all(len(json.dumps(call.body)) < 65536 for call in calls)


SIGNER = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"
ROUND = RoundReport(feed="SP500", round=9, view=10, leader=SIGNER, answer=2**190,
                    observed_at=1_700_000_000, signers=(SIGNER,), status="agreed",
                    decided_at=datetime(2026, 1, 2, tzinfo=UTC))


def test_report_rounds__answer_as_a_decimal_string(send: Send, server: str):
    (call,) = endpoints.report_rounds([ROUND])
    echoed = send(server, replace(call, path="/echo", read=json_body(dict)))
    assert (echoed["method"], echoed["body"]) == ("POST", {"rounds": [{
        "feed": "SP500", "round": 9, "view": 10, "leader": SIGNER, "answer": str(2**190),
        "observed_at": 1_700_000_000, "signers": [SIGNER], "status": "agreed",
        "decided_at": "2026-01-02T00:00:00Z"}]})


def test_report_rounds__batches_within_the_backends_limits():
    assert endpoints.report_rounds([]) == []
    counts = [len(call.body["rounds"]) for call in endpoints.report_rounds([ROUND] * 250)]
    assert counts == [100, 100, 50]
    crowded = ROUND.model_copy(update={"signers": (SIGNER,) * 64})
    calls = endpoints.report_rounds([crowded] * 100)
    assert sum(len(call.body["rounds"]) for call in calls) == 100
    assert all(len(json.dumps(call.body)) < 65536 for call in calls)


def test_execution_record__from_any_object_with_its_attributes():
    @dataclass(frozen=True)
    class Execution:
        function: str
        started_at: datetime
        duration_ms: float
        outcome: str
        error: str | None = None

    node_side = Execution("compute_vwap", RECORD.started_at, 1.25, "ok")
    assert ExecutionRecord.model_validate(node_side) == RECORD


def test_execution_item__result_with_keys_of_a_newer_backend__read_ignoring_them():
    named = {"signer": ME["address"], "round": 9, "view": 0, "phase": "commit",
             "evidence": "cd" * 32}
    item = ExecutionItem.model_validate({**EXECUTIONS["items"][0], "result": {
        "double_signs": [{**named, "weight": 3}], "quorum_gaps": [1]}})
    [found] = item.result.double_signs
    assert found.model_dump() == named


def test_network_reads__typed_answers(send: Send, server: str):
    page = send(server, endpoints.network_executions(None, None, "error", 2, None))
    (item,) = page.items
    assert (item.node_type, item.token_id, item.outcome, page.next_cursor) == (
        NodeType.ORACLE, 2**200, "error", "abc")
    members = send(server, endpoints.network_members())
    assert members.indexed_block == 17 and members.members[0].node_type is NodeType.VALIDATOR
    watch = send(server, endpoints.watch_licenses(None, 1))
    assert watch.license(NodeType.ORACLE).status == "suspended"
    assert watch.license(NodeType.GUARDIAN) is None
