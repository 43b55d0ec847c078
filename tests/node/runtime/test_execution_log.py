"""Execution records: outcome by how the function ended, bounded, drained oldest first."""

from __future__ import annotations

import pytest

from node.errors import NonFiniteInput
from node.execution import ExecutionLog


def test_run__returns__recorded_ok():
    log = ExecutionLog()
    with log.run("compute_vwap"):
        pass
    [record] = log.drain()
    assert (record.function, record.outcome, record.error) == ("compute_vwap", "ok", None)
    assert record.duration_ms >= 0 and record.started_at.tzinfo is not None


def test_run__typed_refusal__recorded_rejected_and_raised():
    log = ExecutionLog()
    with pytest.raises(NonFiniteInput), log.run("compute_twap"):
        raise NonFiniteInput("price 3 is NaN")
    [record] = log.drain()
    assert record.outcome == "rejected" and record.error == "NonFiniteInput: price 3 is NaN"


def test_run__unexpected_error__recorded_error():
    log = ExecutionLog()
    with pytest.raises(ZeroDivisionError), log.run("compute_twap"):
        _ = 1 / 0
    assert log.drain()[0].outcome == "error"


def test_run__name_not_in_catalogue__refused():
    with pytest.raises(KeyError, match="not in the node function catalogue"), \
            ExecutionLog().run("make_money"):
        pass


def test_append__over_bound__oldest_dropped_and_counted():
    log = ExecutionLog(max_pending=3)
    for name in ("compute_vwap", "compute_twap", "compute_market_depth", "compute_vwap"):
        with log.run(name):
            pass
    assert [r.function for r in log.drain()] == ["compute_twap", "compute_market_depth",
                                                 "compute_vwap"]
    assert (log.recorded, log.dropped) == (4, 1)


def test_requeue__unshipped__come_back_first():
    log = ExecutionLog()
    with log.run("compute_vwap"):
        pass
    shipped = log.drain()
    with log.run("compute_twap"):
        pass
    log.requeue(shipped)
    assert [r.function for r in log.drain()] == ["compute_vwap", "compute_twap"]
