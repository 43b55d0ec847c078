"""Why a feed's rounds stall when more than f validators are down: the network says so instead
of going quiet.

A round ends undecided at this validator when the next one opens without a decision. If fewer
members were heard in it (any consensus message since it opened, this validator included) than
the quorum n - f, no report could be agreed however long it waited; the validator then records
a `handle_view_change` run rejected with the reason, which `GET /network/executions` shows:

    QuorumUnreachable: round 57 of SP500: 2 of 4 validators answer, quorum 3; silent: 0x…, 0x…

and logs it as a warning. A round that ends undecided with a quorum answering while no oracle
observation of it reached this validator had nothing to propose: the oracles publish a feed
only when it moves past their deviation threshold or their heartbeat is due (Chainlink's
trigger), so a quiet market skips rounds by design. That is recorded the same way, as
`NoObservations: round 58 of SP500: 0 oracle observations reached this validator before it
opened, 1 needed to propose`, and logged at INFO: it is no fault. Other rounds that stall with
a quorum answering (a slow leader, drops) are the view change's business and say nothing
here."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field

from node.errors import FunctionInputError
from node.execution import ExecutionLog

log = logging.getLogger("noderr.node.validator")


class QuorumUnreachable(FunctionInputError):
    """Fewer validators answer in a round than its quorum: no report can be agreed."""


class NoObservations(FunctionInputError):
    """No oracle observation of the round reached this validator: it had nothing to propose."""


def consensus_quorum(members: int) -> int:
    """The replica's quorum, n - f with f = (n - 1) // 3 (NodeFeed's floor(2n / 3) + 1)."""
    return members - (members - 1) // 3


@dataclass
class Attendance:
    """Who answered in one feed's open round, as seen by validator `me`."""

    feed_id: str
    me: str
    log: ExecutionLog
    min_observations: int = 1
    """What a proposal needs (ValidatorSettings.validator_min_observations)."""
    round: int | None = None
    members: tuple[str, ...] = ()
    heard: set[str] = field(default_factory=set)
    observed: int = 0

    def open(self, round_number: int, members: tuple[str, ...], observed: int = 0) -> None:
        """Watch `round_number` among `members`, opened holding `observed` of the oracle
        observations it covers."""
        self.round, self.members, self.heard = round_number, members, {self.me}
        self.observed = observed

    def heard_from(self, sender: str) -> None:
        self.heard.add(sender)

    def close(self, decided: bool) -> str | None:
        """End the open round; the reason it could not be decided when a quorum did not
        answer, or when it had no observation to propose (recorded and logged), else None."""
        round_number, self.round = self.round, None
        if round_number is None or decided:
            return None
        answering = [member for member in self.members if member in self.heard]
        needed = consensus_quorum(len(self.members))
        if len(answering) < needed:
            silent = ", ".join(member for member in self.members if member not in self.heard)
            return self._say(QuorumUnreachable(
                f"round {round_number} of {self.feed_id}: {len(answering)} of "
                f"{len(self.members)} validators answer, quorum {needed}; silent: {silent}"),
                logging.WARNING)
        if self.observed < self.min_observations:
            return self._say(NoObservations(
                f"round {round_number} of {self.feed_id}: {self.observed} oracle observations "
                f"reached this validator before it opened, {self.min_observations} needed to "
                "propose"),
                logging.INFO)
        return None

    def _say(self, why: FunctionInputError, level: int) -> str:
        with contextlib.suppress(type(why)), self.log.run("handle_view_change"):
            raise why
        log.log(level, "no report: %s", why)
        return str(why)
