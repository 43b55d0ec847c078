"""The replicas over the seeded simulated network: safety after every decision, liveness once
healed, over many seeds. Seed counts are sized for under 30 s on a loaded 2-core machine
(about 15 s idle): 1,000 runs at n = 4 with one fault (200 per kind), 300 at n = 7 with two
faults, 150 at n = 5 with an equivocator, losing a validator from round 2. A failure names
the Scenario that replays it exactly."""

from __future__ import annotations

import pytest

from node.consensus.simulation import (
    FAULTS,
    LivenessViolation,
    SafetyViolation,
    Scenario,
    run,
)

KINDS = sorted(FAULTS)


@pytest.mark.parametrize("kind", KINDS)
def test_simulation__n4_one_faulty__safe_and_live(kind):
    for seed in range(200):
        run(Scenario(seed=seed, n=4, faults=((seed % 4, kind),),
                     drop_rate=(0.0, 0.1, 0.25)[seed % 3]))


def test_simulation__n7_two_faulty__safe_and_live():
    for seed in range(300):
        first, second = seed % 7, (seed + 1 + seed // 7) % 7
        if first == second:
            second = (second + 1) % 7
        faults = ((first, KINDS[seed % len(KINDS)]),
                  (second, KINDS[(seed // len(KINDS)) % len(KINDS)]))
        run(Scenario(seed=seed, n=7, faults=faults, drop_rate=(0.05, 0.2)[seed % 2]))


def test_simulation__validator_removed_mid_run__remaining_decide_every_round():
    for seed in range(150):
        run(Scenario(seed=seed, n=5, rounds=5, faults=((seed % 5, "equivocate"),),
                     removed=((seed + 2) % 5, 2)))


def test_simulation__dead_leader__round_lands_within_two_timeouts():
    scenario = Scenario(seed=1, n=4, faults=((0, "silent"),), drop_rate=0.0,
                        partitions=False, heal_tick=0, rounds=1)
    result = run(scenario)
    assert max(result.decided_at.values()) <= 2 * scenario.timeout_ticks


def test_simulation__same_seed__replays_exactly():
    scenario = Scenario(seed=7, n=7, faults=((0, "equivocate"), (3, "crash")))
    first, second = run(scenario), run(scenario)
    assert (first.decided_at, first.messages, first.last_tick) == (
        second.decided_at, second.messages, second.last_tick)
    assert first.decided_at != run(Scenario(seed=8, n=7, faults=scenario.faults)).decided_at


def test_simulation__f_plus_one_equivocators__checker_finds_a_safety_violation():
    """Two colluding equivocators among four break PBFT's assumption (f = 1); the checker must
    catch the split decision, and say how to replay it."""
    violations = []
    for seed in range(20):
        try:
            run(Scenario(seed=seed, n=4, faults=((0, "equivocate"), (1, "equivocate"))))
        except SafetyViolation as violation:
            violations.append(str(violation))
        except LivenessViolation:
            continue
    assert violations
    assert "replay with run(Scenario(seed=" in violations[0]


def test_simulation__more_than_f_down__liveness_violation_names_the_undecided():
    with pytest.raises(LivenessViolation, match="undecided by tick"):
        run(Scenario(seed=3, n=4, faults=((1, "silent"), (2, "crash"))))
