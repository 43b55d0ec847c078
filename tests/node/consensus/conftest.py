from __future__ import annotations

from collections.abc import Callable

import pytest

from node.consensus import proposals
from node.consensus.messages import OracleValue, Proposal
from node.consensus.replica import Replica
from node.consensus.simulation import oracle_check, seal

MEMBERS = tuple(f"0x{index:040x}" for index in range(1, 5))
TIMEOUT = 40
RETRANSMIT = 15
ORACLES = tuple(f"oracle-{index}" for index in range(5))
CHECK = oracle_check(ORACLES)
"""The replicas' observation check: an observation sealed by one of ORACLES for its round."""


def observed(round_number: int) -> tuple[OracleValue, ...]:
    """The five oracles' sealed observations of a round; median 103 (the upper median of the
    sorted values)."""
    return tuple(OracleValue(oracle, value, seal(oracle, round_number, value))
                 for oracle, value in zip(ORACLES, (101, 105, 103, 102, 104), strict=True))


@pytest.fixture
def members() -> tuple[str, ...]:
    """Four validators (f = 1, quorum 3), in address order: members[v % 4] leads view v."""
    return MEMBERS


@pytest.fixture
def observations() -> tuple[OracleValue, ...]:
    return observed(0)


@pytest.fixture
def proposal(observations: tuple[OracleValue, ...]) -> Proposal:
    return proposals.propose(0, observations)


@pytest.fixture
def other_proposal(observations: tuple[OracleValue, ...]) -> Proposal:
    """A valid round-0 proposal with another value (the oracle that said 101 left out)."""
    return proposals.propose(0, observations[1:])


@pytest.fixture
def replica_at(members: tuple[str, ...], observations: tuple[OracleValue, ...]
               ) -> Callable[[int], Replica]:
    """Replica members[index], started in round 0 at tick 0."""
    def build(index: int, own: tuple[OracleValue, ...] | None = None) -> Replica:
        replica = Replica(members[index], timeout_ticks=TIMEOUT, retransmit_ticks=RETRANSMIT,
                          min_observations=3, check_observation=CHECK)
        replica.start_round(0, members, observations if own is None else own, now=0)
        return replica
    return build
