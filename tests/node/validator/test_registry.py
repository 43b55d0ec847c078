from __future__ import annotations

from node.validator.registry import CONSENSUS_STEPS, VALIDATOR_FUNCTIONS
from noderr.catalogue import BY_NAME, of_type
from noderr.domain import NodeType


def test_registry__with_the_consensus_steps__covers_the_validator_catalogue_exactly():
    names = {spec.name for spec in of_type(NodeType.VALIDATOR)}

    assert set(VALIDATOR_FUNCTIONS) | CONSENSUS_STEPS == names
    assert not set(VALIDATOR_FUNCTIONS) & CONSENSUS_STEPS
    assert (len(VALIDATOR_FUNCTIONS), len(names)) == (10, 20)


def test_registry__every_function__documented_and_of_a_validator_row():
    for name, function in VALIDATOR_FUNCTIONS.items():
        assert BY_NAME[name].node_type is NodeType.VALIDATOR
        assert function.__doc__
