"""A node's execution records on their way to the backend: a record the backend refuses for
good (422: e.g. a function of another node type) is dropped alone, the records beside it and
behind it are stored; while the backend does not answer, everything is kept for later."""

from __future__ import annotations

import asyncio

from client import BackendError
from client.models import ExecutionRecord
from node.runtime.reporting import Reporter
from noderr.domain import NodeType


class Backend:
    """POST /nodes/executions, all or nothing per batch: 422 when a batch holds a Validator
    function (the node is a Guardian), `down` answers 503 to everything."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.stored: list[str] = []
        self.calls = 0

    async def report_executions(self, node_type: int, token_id: int,
                                records: list[ExecutionRecord]) -> int:
        self.calls += 1
        if self.down:
            raise BackendError(503, "the mirror lags")
        if any(record.function == "validate_tx_signature" for record in records):
            raise BackendError(422, "'validate_tx_signature' is a Validator function")
        self.stored += [record.function for record in records]
        return len(records)


def guardian(backend: Backend, functions: list[str]) -> Reporter:
    reporter = Reporter(backend, None, NodeType.GUARDIAN, 1, "test", lambda error: None)
    for function in functions:
        with reporter.log.run(function):
            pass
    return reporter


def test_ship_executions__one_record_refused_for_good__dropped_alone_the_rest_stored():
    backend = Backend()
    reporter = guardian(backend, ["compute_drawdown", "validate_tx_signature",
                                  "check_node_heartbeats"])
    asyncio.run(reporter.ship_executions())
    assert backend.stored == ["compute_drawdown", "check_node_heartbeats"]
    assert reporter.log.drain() == []


def test_ship_executions__later_records__not_blocked_by_an_earlier_bad_one():
    backend = Backend()
    reporter = guardian(backend, ["validate_tx_signature"])
    asyncio.run(reporter.ship_executions())
    with reporter.log.run("compute_drawdown"):
        pass
    asyncio.run(reporter.ship_executions())
    assert backend.stored == ["compute_drawdown"]


def test_ship_executions__backend_down__every_record_kept_for_later():
    backend = Backend(down=True)
    reporter = guardian(backend, ["compute_drawdown", "check_node_heartbeats"])
    asyncio.run(reporter.ship_executions())
    assert [item.function for item in reporter.log.drain()] == ["compute_drawdown",
                                                                "check_node_heartbeats"]
