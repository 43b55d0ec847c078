"""The implementation of every Validator row of the catalogue that is a function of its own,
by its catalogue name. The other rows are steps of the consensus run by node/runtime/validator.py
(CONSENSUS_STEPS), recorded under their names as the validator takes them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from node.validator.coordination import acquire_leader_lease, score_peer
from node.validator.governance import (
    cast_vote,
    execute_proposal,
    submit_proposal,
    tally_proposal,
)
from node.validator.stake import apply_penalty, compute_voting_power, detect_double_sign
from node.validator.transactions import validate_tx_risk

VALIDATOR_FUNCTIONS: dict[str, Callable[..., Any]] = {
    function.__name__: function for function in (
        validate_tx_risk, submit_proposal, cast_vote, tally_proposal, execute_proposal,
        compute_voting_power, detect_double_sign, apply_penalty, score_peer,
        acquire_leader_lease,
    )
}
CONSENSUS_STEPS = frozenset({
    "validate_tx_signature", "validate_nonce_and_replay", "validate_report_payload",
    "propose_batch", "vote_prepare", "vote_commit", "handle_view_change", "track_liveness",
    "sync_state", "schedule_transmission",
})
