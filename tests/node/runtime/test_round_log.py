"""A validator's rounds on their way to the backend: one word per (feed, round), the newest
kept, bounded; shipped in batches, kept while the backend does not answer, dropped once it
refuses them for good."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from client import BackendError
from client.models import RoundReport
from node.runtime.reporting import Reporter, RoundLog
from noderr.domain import NodeType

LEADER = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"


def word(number: int, status: str = "agreed", feed: str = "SP500") -> RoundReport:
    return RoundReport(feed=feed, round=number, view=number, leader=LEADER, answer=100,
                       observed_at=number, signers=(LEADER,), status=status,
                       decided_at=datetime.now(UTC))


class Backend:
    """Answers POST /nodes/rounds with `failure`, or takes the rounds."""

    def __init__(self, failure: BackendError | None = None) -> None:
        self.failure = failure
        self.taken: list[RoundReport] = []

    async def report_rounds(self, rounds: list[RoundReport]) -> int:
        if self.failure is not None:
            raise self.failure
        self.taken += rounds
        return len(rounds)


def reporter(backend: Backend) -> Reporter:
    return Reporter(backend, None, NodeType.VALIDATOR, 1, "test", lambda error: None)


def test_record__same_round_again__newest_word_kept():
    log = RoundLog()
    log.record(word(1))
    log.record(word(2))
    log.record(word(1, "transmitted"))
    assert [(item.round, item.status) for item in log.drain()] == [(2, "agreed"),
                                                                   (1, "transmitted")]
    assert len(log) == 0


def test_record__over_the_bound__oldest_dropped():
    log = RoundLog(max_pending=2)
    for number in (1, 2, 3):
        log.record(word(number))
    assert [item.round for item in log.drain()] == [2, 3] and log.dropped == 1


def test_requeue__a_newer_word_recorded_meanwhile__wins():
    log = RoundLog()
    log.record(word(1))
    shipped = log.drain()
    log.record(word(1, "failed"))
    log.requeue(shipped)
    assert [item.status for item in log.drain()] == ["failed"]


def test_ship_rounds__taken__log_empty():
    backend = Backend()
    node = reporter(backend)
    node.rounds.record(word(1))
    asyncio.run(node.ship_rounds())
    assert [item.round for item in backend.taken] == [1] and len(node.rounds) == 0


def test_ship_rounds__backend_unreachable__kept_for_later():
    node = reporter(Backend(BackendError(0, "connection refused")))
    node.rounds.record(word(1))
    asyncio.run(node.ship_rounds())
    assert [item.round for item in node.rounds.drain()] == [1]


@pytest.mark.parametrize("status", [409, 422])
def test_ship_rounds__refused_for_good__dropped(status):
    node = reporter(Backend(BackendError(status, "refused")))
    node.rounds.record(word(1))
    asyncio.run(node.ship_rounds())
    assert len(node.rounds) == 0
