"""A validator's consensus messages on their way to the backend: each signed message once
(retransmissions skipped), bounded with the oldest dropped and counted, shipped in batches,
kept while the backend does not answer, dropped once it refuses them for good."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from client import BackendError
from client.models import MessageReport
from node.runtime import metrics
from node.runtime.reporting import MessageLog, Reporter
from noderr.domain import NodeType

NOW = datetime.now(UTC)


def signature(number: int) -> str:
    return "0x" + f"{number:0130x}"


def keep(log: MessageLog, *numbers: int, feed: str = "SP500") -> None:
    for number in numbers:
        log.record(feed, f"prepare|{number}", signature(number), NOW)


def texts(messages: list[MessageReport]) -> list[str]:
    return [message.text for message in messages]


class Backend:
    """Answers POST /nodes/consensus-messages with `failure`, or takes the messages."""

    def __init__(self, failure: BackendError | None = None) -> None:
        self.failure = failure
        self.taken: list[MessageReport] = []

    async def report_messages(self, messages: list[MessageReport]) -> int:
        if self.failure is not None:
            raise self.failure
        self.taken += messages
        return len(messages)


def reporter(backend: Backend) -> Reporter:
    return Reporter(backend, None, NodeType.VALIDATOR, 1, "test", lambda error: None)


def test_record__retransmitted__kept_once_even_after_shipping():
    log = MessageLog()
    keep(log, 1, 2, 1)
    assert texts(log.drain()) == ["prepare|1", "prepare|2"]
    keep(log, 2)
    keep(log, 2, feed="EURUSD")
    assert [(item.feed, item.text) for item in log.drain()] == [("EURUSD", "prepare|2")]


def test_record__over_the_bound__oldest_dropped_and_counted():
    before = metrics.MESSAGES_DROPPED._value.get()
    log = MessageLog(max_pending=2)
    keep(log, 1, 2, 3)
    assert texts(log.drain()) == ["prepare|2", "prepare|3"]
    assert log.dropped == 1 and metrics.MESSAGES_DROPPED._value.get() == before + 1


def test_requeue__backend_down_meanwhile__older_first_within_the_bound():
    log = MessageLog(max_pending=3)
    keep(log, 1, 2)
    shipped = log.drain()
    keep(log, 3, 4)
    log.requeue(shipped)
    assert texts(log.drain()) == ["prepare|2", "prepare|3", "prepare|4"]
    assert log.dropped == 1


def test_ship_messages__taken__log_empty():
    backend = Backend()
    node = reporter(backend)
    keep(node.messages, 1, 2)
    asyncio.run(node.ship_messages())
    assert texts(backend.taken) == ["prepare|1", "prepare|2"] and len(node.messages) == 0


def test_ship_messages__backend_unreachable__kept_for_later():
    node = reporter(Backend(BackendError(0, "connection refused")))
    keep(node.messages, 1)
    asyncio.run(node.ship_messages())
    assert texts(node.messages.drain()) == ["prepare|1"]


@pytest.mark.parametrize("status", [409, 413, 422])
def test_ship_messages__refused_for_good__dropped(status):
    node = reporter(Backend(BackendError(status, "refused")))
    keep(node.messages, 1)
    asyncio.run(node.ship_messages())
    assert len(node.messages) == 0
