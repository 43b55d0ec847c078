from __future__ import annotations

from node.consensus.messages import (
    Commit,
    Message,
    Prepare,
    PreparedCertificate,
    PrePrepare,
    Proposal,
    ViewChange,
)
from node.consensus.replica import Action, Decide, Send


def sent(actions: list[Action], kind: type) -> list[Message]:
    return [action.message for action in actions
            if isinstance(action, Send) and isinstance(action.message, kind)]


def decisions(actions: list[Action]) -> list[Decide]:
    return [action for action in actions if isinstance(action, Decide)]


def pre_prepare(sender: str, proposal: Proposal, view: int = 0) -> PrePrepare:
    return PrePrepare(sender, proposal.round, view, proposal.digest, proposal)


def prepare(sender: str, proposal: Proposal, view: int = 0) -> Prepare:
    return Prepare(sender, proposal.round, view, proposal.digest)


def commit(sender: str, proposal: Proposal, view: int = 0) -> Commit:
    return Commit(sender, proposal.round, view, proposal.digest)


def certificate(members: tuple[str, ...], proposal: Proposal, view: int = 0
                ) -> PreparedCertificate:
    """Prepared in `view` by the first three members; pre-prepared by that view's leader."""
    leader = members[view % len(members)]
    return PreparedCertificate(pre_prepare(leader, proposal, view),
                               tuple(prepare(member, proposal, view) for member in members[:3]))


def view_change(sender: str, new_view: int, prepared: PreparedCertificate | None = None
                ) -> ViewChange:
    return ViewChange(sender, 0, new_view, prepared)
