"""The round's report as a deterministic function of the observations it carries, so that every
replica can check the leader's proposal instead of trusting it.

The rule is OCR2's median, as `node.oracle.aggregation.aggregate_median_price` applies it: the
observation at index n // 2 of the n sorted values (the upper median, always one of the
observations), here over the integer values scaled by 10**8 that go on-chain."""

from __future__ import annotations

from collections.abc import Iterable

from node.consensus.messages import OracleValue, Proposal


def median_value(observations: Iterable[OracleValue]) -> int:
    values = sorted(item.value for item in observations)
    return values[len(values) // 2]


def propose(round_number: int, observations: Iterable[OracleValue]) -> Proposal:
    """The proposal over `observations` (one per oracle, ordered by oracle address)."""
    ordered = tuple(sorted(observations, key=lambda item: item.oracle))
    return Proposal(round_number, ordered, median_value(ordered))


def is_valid(proposal: Proposal, round_number: int, min_observations: int) -> bool:
    """True when the proposal is for this round, carries at least `min_observations` positive
    integer values from distinct oracles in address order, and its value is their median."""
    observations = proposal.observations
    oracles = [item.oracle for item in observations]
    return (proposal.round == round_number
            and len(observations) >= min_observations
            and oracles == sorted(set(oracles))
            and all(type(item.value) is int and item.value > 0 for item in observations)
            and proposal.value == median_value(observations))
