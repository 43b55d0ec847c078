"""A stopping node's last word: the backend hears "stopping" after every earlier beat, even when
it answered 503 for a moment (a lagging mirror) or shipping the last records failed; otherwise
`GET /network/nodes` would show the stopped node active until it went stale."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from client import BackendError
from node.runtime.reporting import Reporter
from noderr.domain import NodeType


class Backend:
    """POST /nodes/heartbeat and /nodes/executions: the first `refusals` heartbeats get
    `status`; a heartbeat takes `delay` s to store; `ship_fails` makes the executions call
    raise what a bug would."""

    def __init__(self, refusals: int = 0, status: int = 503, delay: float = 0.0,
                 ship_fails: bool = False) -> None:
        self.refusals, self.status, self.delay = refusals, status, delay
        self.ship_fails = ship_fails
        self.states: list[str] = []

    async def heartbeat(self, node_type: int, token_id: int, version: str, state: str) -> None:
        await asyncio.sleep(self.delay)
        if self.refusals:
            self.refusals -= 1
            raise BackendError(self.status, "the mirror lags")
        self.states.append(state)

    async def report_executions(self, node_type: int, token_id: int, records: list) -> int:
        if self.ship_fails:
            raise RuntimeError("a bug while shipping")
        return len(records)


class Bus:
    def __init__(self) -> None:
        self.states: list[str] = []

    async def beat(self, state: str, version: str) -> None:
        self.states.append(state)


def reporter(backend: Backend) -> Reporter:
    return Reporter(backend, Bus(), NodeType.ORACLE, 1, "test", lambda error: None)


def test_final__backend_answers_503_twice__stopping_still_heard():
    backend = Backend(refusals=2)
    node = reporter(backend)
    asyncio.run(node.final("stopping"))
    assert backend.states == ["stopping"]
    assert node.network.states == ["stopping"]


def test_final__refused_for_good__not_retried():
    backend = Backend(refusals=1, status=403)
    node = reporter(backend)
    asyncio.run(node.final("stopping"))
    assert backend.states == []
    assert backend.refusals == 0
    assert node.network.states == ["stopping"]


def test_final__shipping_fails__stopping_still_said():
    backend = Backend(ship_fails=True)
    node = reporter(backend)
    with node.log.run("compute_vwap"):
        pass
    with pytest.raises(RuntimeError):
        asyncio.run(node.final("stopping"))
    assert backend.states == ["stopping"]


def test_heartbeats_until__stopped_mid_beat__that_beat_finishes_before_the_last_one():
    backend = Backend(delay=0.2)
    node = reporter(backend)
    settings = SimpleNamespace(node_heartbeat_interval=0.05)

    async def scenario() -> None:
        stopped = asyncio.Event()
        beats = asyncio.create_task(node.heartbeats_until(stopped, lambda: "active", settings))
        await asyncio.sleep(0.1)  # the first beat is in flight
        stopped.set()
        await asyncio.wait_for(beats, 5)
        await node.final("stopping")

    asyncio.run(scenario())
    assert backend.states == ["active", "stopping"]
