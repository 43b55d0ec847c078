"""Stake management: a validator's standing. Licenses are not stake; a validator's weight is the
vote its Validator license gives it in governance, and misbehaviour is answered by a proposal
to suspend that license, which the validators' governance decides.

- compute_voting_power replays the license mirror up to a snapshot block with NodeLicense's
  rules (docs/governance.md): one vote per account holding an Active Validator license at the
  end of the snapshot block, the quorum base being the live (Active or Suspended) ones.
- detect_double_sign finds, in a log of signed consensus messages (as they travel on the bus,
  embedded ones included), two messages one signer signed for the same round, view and phase
  with different digests: PBFT's equivocation. Each message's signature is checked before it
  counts, and the evidence carries both signed messages, so anyone holding the chain id can
  check it again (verify_evidence) without trusting the node that found it.
- apply_penalty turns evidence into the governor proposal that suspends the signer's license
  through the timelock; it never suspends anything itself."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from node.consensus.messages import Commit, Prepare, PrePrepare
from node.consensus.wire import Codec, InvalidMessage, Recover
from node.errors import InvalidParameter
from node.validator.calls import SUSPEND, ProposalCall, address
from noderr.domain import NodeType

VOTE_PHASES = {PrePrepare: "pre_prepare", Prepare: "prepare", Commit: "commit"}
LICENSE_EVENTS = ("minted", "suspended", "reinstated", "revoked", "reassigned")


# voting power
@dataclass(frozen=True)
class LicenseEvent:
    """A NodeLicense event as the mirror holds it. `owner` is the holder a mint gives the
    license to or a reassignment moves it to; `node_type` is a mint's (other events keep the
    license's)."""

    kind: str
    token_id: int
    block: int
    log_index: int = 0
    owner: str | None = None
    node_type: NodeType | None = None


@dataclass(frozen=True)
class VotingPower:
    """Who votes at `snapshot` (power per checksummed account) and the quorum's base."""

    snapshot: int
    power: dict[str, int]
    live_supply: int

    @property
    def total(self) -> int:
        return sum(self.power.values())


@dataclass
class _License:
    owner: str
    node_type: NodeType
    active: bool = True


def compute_voting_power(events: Iterable[LicenseEvent], snapshot: int) -> VotingPower:
    """Each account's votes at the end of block `snapshot`: 1 when it then held an Active
    Validator license, whatever happened to it later (NodeLicense.validator_license_at), and
    the live Validator supply then (supply_at, NodeGovernor's quorum base). Events after the
    snapshot are ignored; events are applied in (block, log_index) order. An event the chain
    could not have emitted (a suspension of an unknown or suspended license, ...) means a
    corrupt mirror: InvalidParameter."""
    if isinstance(snapshot, bool) or not isinstance(snapshot, int) or snapshot < 0:
        raise InvalidParameter(f"snapshot must be a block number, got {snapshot!r}")
    licenses: dict[int, _License] = {}
    for event in sorted(events, key=lambda item: (item.block, item.log_index)):
        if event.block > snapshot:
            break
        _apply(licenses, event)
    validators = [held for held in licenses.values() if held.node_type is NodeType.VALIDATOR]
    power = {held.owner: 1 for held in validators if held.active}
    return VotingPower(snapshot, dict(sorted(power.items())), len(validators))


def _apply(licenses: dict[int, _License], event: LicenseEvent) -> None:
    if event.kind not in LICENSE_EVENTS:
        raise InvalidParameter(f"unknown license event {event.kind!r}")
    held = licenses.get(event.token_id)
    if event.kind == "minted":
        if held is not None or event.owner is None or event.node_type is None:
            raise InvalidParameter(f"mint of token {event.token_id} is not a new license "
                                   "with an owner and a node type")
        licenses[event.token_id] = _License(address("owner", event.owner),
                                            _node_type(event.node_type))
        return
    if held is None:
        raise InvalidParameter(f"{event.kind} of token {event.token_id}, which is not live")
    if event.kind == "revoked":
        del licenses[event.token_id]
    elif event.kind == "reassigned":
        if event.owner is None:
            raise InvalidParameter(f"reassignment of token {event.token_id} names no owner")
        held.owner = address("owner", event.owner)
    elif held.active == (event.kind == "reinstated"):
        raise InvalidParameter(f"{event.kind} of token {event.token_id}, which is already "
                               f"{'active' if held.active else 'suspended'}")
    else:
        held.active = event.kind == "reinstated"


def _node_type(value: object) -> NodeType:
    try:
        return NodeType.parse(value)
    except ValueError as error:
        raise InvalidParameter(str(error)) from None


# double signing
@dataclass(frozen=True)
class DoubleSignEvidence:
    """Two different messages `signer` signed for one (round, view, phase), as signed payloads
    ({"type", "body", "signature"}, the bus's form), in a canonical order."""

    signer: str
    round: int
    view: int
    phase: str
    first: Mapping[str, Any]
    second: Mapping[str, Any]

    @property
    def digest(self) -> str:
        """sha256 of the two payloads' canonical JSON: the name governance quotes."""
        return hashlib.sha256(_canonical_json([self.first, self.second]).encode()).hexdigest()


def detect_double_sign(vote_log: Iterable[Mapping[str, Any]], domain: bytes,
                       recover: Recover) -> tuple[DoubleSignEvidence, ...]:
    """Evidence of every signer who signed two pre-prepares, prepares or commits with different
    digests for one (round, view), in `vote_log`: consensus payloads as received, whose
    embedded messages (view changes' certificates, new views, catch-up commits) are searched
    too. A message counts only when its own signature over `domain` recovers to its sender
    (`recover` returns the checksummed signer), so a forged message incriminates nobody. One
    piece of evidence per (signer, round, view, phase), ordered by those."""
    codec = Codec("", domain, _no_signing, recover)
    seen: dict[tuple[str, int, int, str], tuple[str, Mapping[str, Any]]] = {}
    found: dict[tuple[str, int, int, str], DoubleSignEvidence] = {}
    for payload in _signed_votes(vote_log):
        message = _verified(codec, payload)
        if message is None:
            continue
        key = (message.sender, message.round, message.view, VOTE_PHASES[type(message)])
        first = seen.setdefault(key, (message.digest, payload))
        if first[0] != message.digest and key not in found:
            found[key] = _evidence(key, first[1], payload)
    return tuple(found[key] for key in sorted(found))


def verify_evidence(evidence: DoubleSignEvidence, domain: bytes, recover: Recover) -> bool:
    """Whether both messages are signed by the evidence's signer over `domain`, are votes of
    its round, view and phase, and differ in digest."""
    codec = Codec("", domain, _no_signing, recover)
    messages = [_verified(codec, payload) for payload in (evidence.first, evidence.second)]
    if any(message is None for message in messages):
        return False
    keys = {(message.sender, message.round, message.view, VOTE_PHASES[type(message)])
            for message in messages}
    return (keys == {(evidence.signer, evidence.round, evidence.view, evidence.phase)}
            and messages[0].digest != messages[1].digest)


def _no_signing(digest: bytes) -> bytes:
    raise InvalidMessage("this codec only checks signatures")


def _signed_votes(payloads: Iterable[Any]) -> Iterator[Mapping[str, Any]]:
    """Every signed pre-prepare, prepare and commit in the payloads, at any depth."""
    for payload in payloads:
        if isinstance(payload, Mapping):
            if payload.get("type") in VOTE_PHASES.values() and "signature" in payload:
                yield payload
            yield from _signed_votes(payload.values())
        elif isinstance(payload, list | tuple):
            yield from _signed_votes(payload)


def _verified(codec: Codec, payload: Mapping[str, Any]) -> PrePrepare | Prepare | Commit | None:
    try:
        message = codec.decode(dict(payload))
    except InvalidMessage:
        return None
    return message if type(message) in VOTE_PHASES else None


def _evidence(key: tuple[str, int, int, str], one: Mapping[str, Any],
              other: Mapping[str, Any]) -> DoubleSignEvidence:
    first, second = sorted((one, other), key=_canonical_json)
    return DoubleSignEvidence(*key, first, second)


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


# penalties
def apply_penalty(evidence: DoubleSignEvidence, license_address: str,
                  token_id: int) -> ProposalCall:
    """The governor proposal that suspends Validator license `token_id` (the signer's, from the
    mirror) through the timelock: one call of NodeLicense.suspend with a reason naming the
    evidence, and a description quoting its digest, by which voters find and check it."""
    if isinstance(token_id, bool) or not isinstance(token_id, int) or token_id <= 0:
        raise InvalidParameter(f"token_id must be a positive license id, got {token_id!r}")
    digest = evidence.digest
    reason = f"double-sign evidence sha256:{digest}"
    description = (f"Suspend {evidence.signer} (Validator license #{token_id}): two different "
                   f"signed {evidence.phase} messages for round {evidence.round}, view "
                   f"{evidence.view}; evidence sha256:{digest}")
    return ProposalCall.of([license_address], [0], [SUSPEND.calldata(token_id, reason)],
                           description)
