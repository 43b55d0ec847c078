"""What validators say to each other while agreeing on one report per round (PBFT's phases).

Every message names its `sender`. Nothing here is signed: the bus envelope signs each message and
the transport checks the signer (and every message embedded in a certificate) before the core
sees it, so the core trusts `sender`. An oracle's value is different: the leader relays it, so
it travels with the oracle's own signed observation (`OracleValue.proof`, opaque here), which
the replica has checked by a callable the runtime injects. A certificate is a tuple of the
signed messages themselves, which is what lets a replica that never saw them check a claim
("this value was prepared").

Values are the oracles' prices scaled by 10**8 (integers: no float for what goes on-chain)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class OracleValue:
    """One oracle's observation for the round, as the proposal carries it: the value and
    `proof`, the oracle's signed observation it comes from (for the runtime, the bus frame the
    oracle published), without which a leader could make values up."""

    oracle: str
    value: int
    proof: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class Proposal:
    """The leader's report for a round: the observations it used and their median."""

    round: int
    observations: tuple[OracleValue, ...]
    value: int

    @cached_property
    def digest(self) -> str:
        """sha256 of the canonical text of the proposal (round, value, observations in order,
        each with the sha256 of its proof: a vote binds the evidence, not only the values)."""
        text = f"{self.round}|{self.value}|" + ";".join(
            f"{item.oracle}={item.value}#{hashlib.sha256(item.proof).hexdigest()}"
            for item in self.observations)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class PrePrepare:
    sender: str
    round: int
    view: int
    digest: str
    proposal: Proposal


@dataclass(frozen=True)
class Prepare:
    sender: str
    round: int
    view: int
    digest: str


@dataclass(frozen=True)
class Commit:
    sender: str
    round: int
    view: int
    digest: str


@dataclass(frozen=True)
class PreparedCertificate:
    """Proof that a proposal was prepared in a view: the leader's pre-prepare and a quorum of
    matching prepares from distinct members."""

    pre_prepare: PrePrepare
    prepares: tuple[Prepare, ...]

    @property
    def view(self) -> int:
        return self.pre_prepare.view


@dataclass(frozen=True)
class ViewChange:
    """`sender` gives up on every view below `new_view` of the round, and hands over the highest
    certificate it prepared (None if it prepared nothing)."""

    sender: str
    round: int
    new_view: int
    prepared: PreparedCertificate | None


@dataclass(frozen=True)
class NewView:
    """The new leader's proof (a quorum of view changes) and its pre-prepare for the view."""

    sender: str
    round: int
    view: int
    view_changes: tuple[ViewChange, ...]
    pre_prepare: PrePrepare


@dataclass(frozen=True)
class Decided:
    """Catch-up: a replica that decided the round answers a laggard with the proposal and the
    quorum of commits that decided it, which the laggard checks as if it had received them."""

    sender: str
    round: int
    proposal: Proposal
    commits: tuple[Commit, ...]


Message = PrePrepare | Prepare | Commit | ViewChange | NewView | Decided


def embedded(message: Message) -> tuple[Message, ...]:
    """The messages of other senders that `message` carries as proof (the transport checks their
    signatures as it checks the envelope's)."""
    if isinstance(message, ViewChange):
        return _certificate_messages(message.prepared)
    if isinstance(message, NewView):
        inner: list[Message] = [message.pre_prepare]
        for change in message.view_changes:
            inner.append(change)
            inner.extend(_certificate_messages(change.prepared))
        return tuple(inner)
    if isinstance(message, Decided):
        return message.commits
    return ()


def _certificate_messages(certificate: PreparedCertificate | None) -> tuple[Message, ...]:
    if certificate is None:
        return ()
    return (certificate.pre_prepare, *certificate.prepares)
