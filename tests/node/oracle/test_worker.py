from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from node.errors import EmptyInput, InvalidParameter, StaleInput, UnknownInstrument
from node.execution import ExecutionLog
from node.oracle.observation import PRICE_SCALE, Observation
from node.oracle.registry import ORACLE_FUNCTIONS
from node.oracle.worker import OracleParams, OracleWorker
from node.sources.book import BookSimulator
from node.sources.market import to_ns
from node.sources.replay import (
    DEFAULT_PROFILES,
    INSTRUMENTS,
    ReplayClock,
    SourceProfile,
    load_tape,
    replay_sources,
)

START = datetime(2024, 1, 1, tzinfo=UTC)
ROUND = timedelta(seconds=1.37)
"""A round's wall time: at the default speed a round replays 1.37 days, landing inside bars."""
BIASED = "cirrus"
HONEST_LATENCY = max(p.latency for p in DEFAULT_PROFILES)


def profiles(*extra: SourceProfile) -> list[SourceProfile]:
    chosen = [dataclasses.replace(p, bias_bps=250) if p.name == BIASED else p
              for p in DEFAULT_PROFILES]
    return chosen + list(extra)


def worker(log: ExecutionLog, *extra: SourceProfile, **params) -> OracleWorker:
    return OracleWorker(replay_sources(9, profiles(*extra)), INSTRUMENTS, ReplayClock(START),
                        BookSimulator(9), OracleParams(**params), log)


def run(oracle: OracleWorker, rounds: int) -> list[Observation]:
    return [observation for round_id in range(rounds)
            for observation in oracle.run_round(round_id, START + round_id * ROUND)]


@pytest.fixture(scope="module")
def forty_rounds() -> tuple[OracleWorker, list[Observation], ExecutionLog]:
    log = ExecutionLog()
    oracle = worker(log)
    return oracle, run(oracle, 40), log


def test_worker__runs_every_oracle_function(forty_rounds) -> None:
    _, _, log = forty_rounds
    executions = log.drain() or pytest.fail("nothing recorded")
    outcomes = Counter((e.function, e.outcome) for e in executions)
    assert {e.function for e in executions} == set(ORACLE_FUNCTIONS)
    assert all(outcomes[(name, "ok")] > 0 for name in ORACLE_FUNCTIONS)
    assert not [e for e in executions if e.outcome == "error"]


def test_worker__observations_lie_in_the_replayed_bars(forty_rounds) -> None:
    oracle, observations, _ = forty_rounds
    assert {o.feed_id for o in observations} == set(INSTRUMENTS)
    for observation in observations:
        at = oracle.clock.replay_time(observation.feed_id, observation.observed_at)
        tape = load_tape(observation.feed_id)
        first = tape.bar_at(to_ns(at - HONEST_LATENCY))
        last = tape.bar_at(to_ns(at))
        low = tape.bars.low[first:last + 1].min()
        high = tape.bars.high[first:last + 1].max()
        assert low * PRICE_SCALE - 1 <= observation.value <= high * PRICE_SCALE + 1
        assert 0 < observation.confidence < observation.value // 100


def test_worker__biased_source_is_flagged_and_never_used(forty_rounds) -> None:
    oracle, observations, _ = forty_rounds
    assert all(BIASED not in o.sources_used for o in observations)
    assert all(len(o.sources_used) >= 3 for o in observations)
    for feed in INSTRUMENTS:
        assert oracle.latest[feed]["detect_source_outliers"].outliers == (BIASED,)


def test_worker__publishes_on_deviation_or_heartbeat_only(forty_rounds) -> None:
    _, observations, _ = forty_rounds
    params = OracleParams()
    for feed in INSTRUMENTS:
        published = [o for o in observations if o.feed_id == feed]
        assert published
        for before, after in itertools.pairwise(published):
            moved = abs(after.value - before.value) / before.value
            assert (moved >= params.deviation_threshold - 1e-9
                    or after.observed_at - before.observed_at >= params.heartbeat)
    assert len(observations) < 40 * len(INSTRUMENTS)


def test_worker__keeps_the_analytics_of_each_feed(forty_rounds) -> None:
    oracle, _, _ = forty_rounds
    for feed in INSTRUMENTS:
        latest = oracle.latest[feed]
        assert set(latest) == set(ORACLE_FUNCTIONS)
        assert latest["compute_realized_volatility"].close_to_close > 0
        assert latest["compute_spread_and_microprice"].spread > 0
        assert latest["estimate_price_impact"].impact_bps > 0


def test_worker__stale_source_is_rejected_and_the_round_goes_on() -> None:
    log = ExecutionLog()
    oracle = worker(log, SourceProfile("laggard", latency=timedelta(days=3)))
    observations = run(oracle, 3)
    rejected = [e for e in log.drain() if e.outcome == "rejected"
                and e.function == "validate_observation"]
    assert len(rejected) >= 3 * len(INSTRUMENTS)
    assert all(e.error.startswith(StaleInput.__name__) for e in rejected)
    assert observations
    assert all("laggard" not in o.sources_used for o in observations)


def test_worker__same_seeds_same_observations() -> None:
    first, second = worker(ExecutionLog()), worker(ExecutionLog())
    assert run(first, 8) == run(second, 8)


def test_worker__a_rewound_replay_starts_the_history_again() -> None:
    oracle = worker(ExecutionLog())
    run(oracle, 12)
    assert isinstance(oracle.latest["SP500"]["compute_twap"], float)
    oracle.run_round(12, START)
    assert isinstance(oracle.latest["SP500"]["compute_twap"], EmptyInput)


def test_worker__rounds_at_one_replay_time_keep_one_history_entry() -> None:
    log = ExecutionLog()
    oracle = OracleWorker(replay_sources(9, profiles()), ["GOOG"], ReplayClock(START, speed=1e-6),
                          BookSimulator(9), OracleParams(min_history=3), log)
    for round_id in range(6):
        oracle.run_round(round_id, START)
    assert not [e for e in log.drain() if e.outcome == "rejected"
                and e.function in ("compute_twap", "validate_observation")
                and "MalformedInput" in (e.error or "")]


def test_worker__without_enough_sources_a_feed_is_not_published() -> None:
    log = ExecutionLog()
    oracle = worker(log, f=2)
    observations = run(oracle, 5)
    # four honest sources, one biased, dropouts: 2f + 1 = 5 never survive outlier removal
    assert observations == []
    assert any(e.function == "aggregate_median_price" and e.outcome == "rejected"
               for e in log.drain())


def test_worker__refuses_unknown_feeds_and_too_few_sources() -> None:
    sources = replay_sources(0, DEFAULT_PROFILES[:3], instruments=("GOOG",))
    with pytest.raises(UnknownInstrument):
        OracleWorker(sources, ["SP500"], ReplayClock(START), BookSimulator(), OracleParams(),
                     ExecutionLog())
    with pytest.raises(InvalidParameter):
        OracleWorker(sources, ["GOOG"], ReplayClock(START), BookSimulator(), OracleParams(f=2),
                     ExecutionLog())
    with pytest.raises(InvalidParameter):
        OracleParams(history_length=5)


def test_worker__refuses_a_naive_now() -> None:
    with pytest.raises(InvalidParameter):
        worker(ExecutionLog()).run_round(0, START.replace(tzinfo=None))
