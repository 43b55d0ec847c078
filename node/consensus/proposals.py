"""The round's report as a deterministic function of the observations it carries, so that every
replica can check the leader's proposal instead of trusting it.

The rule is OCR2's median, as `node.oracle.aggregation.aggregate_median_price` applies it: the
observation at index n // 2 of the n sorted values (the upper median, always one of the
observations), here over the integer values scaled by 10**8 that go on-chain.

The median only bounds what a leader can do if the values are the oracles' own: each carries its
proof, which an `ObservationCheck` (the runtime's: signature, license, feed and freshness)
verifies. Without it a Byzantine leader could name licensed oracles and make their values up."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from node.consensus.messages import OracleValue, Proposal

ObservationCheck = Callable[[int, OracleValue], bool]
"""(consensus round, observation) -> whether its proof is that oracle's signed observation of
this value, fresh for the round, by a holder of an active Oracle license."""


def median_value(observations: Iterable[OracleValue]) -> int:
    values = sorted(item.value for item in observations)
    return values[len(values) // 2]


def propose(round_number: int, observations: Iterable[OracleValue]) -> Proposal:
    """The proposal over `observations` (one per oracle, ordered by oracle address)."""
    ordered = tuple(sorted(observations, key=lambda item: item.oracle))
    return Proposal(round_number, ordered, median_value(ordered))


def is_valid(proposal: Proposal, round_number: int, min_observations: int,
             check: ObservationCheck) -> bool:
    """True when the proposal is for this round, carries at least `min_observations` positive
    integer values from distinct oracles in address order, each passing `check`, and its value
    is their median."""
    observations = proposal.observations
    oracles = [item.oracle for item in observations]
    return (proposal.round == round_number
            and len(observations) >= min_observations
            and oracles == sorted(set(oracles))
            and all(type(item.value) is int and item.value > 0 for item in observations)
            and proposal.value == median_value(observations)
            and all(check(round_number, item) for item in observations))
