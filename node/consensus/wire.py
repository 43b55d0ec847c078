"""Consensus messages as JSON payloads for the bus, each signed by its author.

The bus envelope signs the message a validator publishes, but a view change, a new view and a
catch-up answer carry other validators' messages as proof, and those must be checkable by a
replica that never received them. So every message, embedded or not, travels as

    {"type": "prepare", "body": {...}, "signature": "0x<r s v>"}

where the signature is the author's (`sender`'s) over sha256(domain ‖ the message's canonical
text), the text built from the message's fields (not from the JSON, so no JSON canonical form
is needed) and the domain naming the deployment (chain id); a body
embeds other messages in the same form. `Codec.decode` checks every signature, the outer one
and each embedded one, against the sender it names, and refuses anything else
(InvalidMessage) before the core sees it. The key stays with the runtime: the codec is handed
a `sign(digest)` and a `recover(digest, signature) -> checksummed address` (the package stays
pure: no crypto library, no I/O).

A replica builds its certificates from the very messages it received, so the codec keeps each
verified message's signature (by value, for the rounds still open) to re-embed it.
Integers that go on-chain travel as decimal strings (JSON readers that map numbers to doubles
round integers above 2**53). A proposal's observations travel as [oracle, value, "0x<proof>"],
the proof being the oracle's signed observation (opaque here; the replica's check verifies it)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from node.consensus.messages import (
    Commit,
    Decided,
    Message,
    NewView,
    OracleValue,
    Prepare,
    PreparedCertificate,
    PrePrepare,
    Proposal,
    ViewChange,
)

KEPT_ROUNDS = 4
Sign = Callable[[bytes], bytes]
Recover = Callable[[bytes, bytes], str | None]
T = TypeVar("T")


class InvalidMessage(ValueError):
    """A payload that is not a well-formed consensus message signed by its sender."""


class Codec:
    """Encodes this validator's messages (signing its own) and decodes others' (checking every
    signature in them)."""

    def __init__(self, me: str, domain: bytes, sign: Sign, recover: Recover) -> None:
        self.me, self._domain = me, domain
        self._sign, self._recover = sign, recover
        self._signatures: dict[Message, bytes] = {}

    def encode(self, message: Message) -> dict[str, Any]:
        kind, body = _ENCODERS[type(message)](self, message)
        return {"type": kind, "body": body, "signature": "0x" + self._signature(message).hex()}

    def decode(self, payload: Any) -> Message:
        try:
            return self._decode(payload)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            if isinstance(error, InvalidMessage):
                raise
            raise InvalidMessage(f"malformed consensus message: {type(error).__name__}: "
                                 f"{error}") from None

    def forget_before(self, round_number: int) -> None:
        """Drop kept signatures of rounds below `round_number` - KEPT_ROUNDS."""
        oldest = round_number - KEPT_ROUNDS
        self._signatures = {message: signature for message, signature
                            in self._signatures.items() if message.round >= oldest}

    def _signature(self, message: Message) -> bytes:
        kept = self._signatures.get(message)
        if kept is not None:
            return kept
        if message.sender != self.me:
            raise ValueError(f"no signature of {message.sender} kept for {message!r:.120}")
        signature = self._sign(self._digest(message))
        self._signatures[message] = signature
        return signature

    def _digest(self, message: Message) -> bytes:
        return hashlib.sha256(self._domain + canonical(message).encode()).digest()

    def _decode(self, payload: dict[str, Any]) -> Message:
        decoder = _DECODERS.get(payload["type"])
        if decoder is None:
            raise InvalidMessage(f"unknown consensus message type {payload['type']!r}")
        message = decoder(self, payload["body"])
        signature = bytes.fromhex(payload["signature"].removeprefix("0x"))
        signer = self._recover(self._digest(message), signature) if len(signature) == 65 else None
        if signer is None or signer != message.sender:
            raise InvalidMessage(f"{payload['type']} not signed by its sender {message.sender}")
        self._signatures[message] = signature
        return message


def canonical(message: Message) -> str:
    """The text a message's signature covers: its kind and fields, embedded messages by their
    own canonical text (a pre-prepare's proposal by its digest, which the core checks)."""
    if isinstance(message, PrePrepare | Prepare | Commit):
        kind = {PrePrepare: "pre_prepare", Prepare: "prepare", Commit: "commit"}[type(message)]
        return f"{kind}|{message.sender}|{message.round}|{message.view}|{message.digest}"
    if isinstance(message, ViewChange):
        proof = () if message.prepared is None else (message.prepared.pre_prepare,
                                                     *message.prepared.prepares)
        return _with_proof(f"view_change|{message.sender}|{message.round}|{message.new_view}",
                           proof)
    if isinstance(message, NewView):
        return _with_proof(f"new_view|{message.sender}|{message.round}|{message.view}",
                           (*message.view_changes, message.pre_prepare))
    return _with_proof(f"decided|{message.sender}|{message.round}|{message.proposal.digest}",
                       message.commits)


def _with_proof(head: str, proof: tuple[Message, ...]) -> str:
    return head + "".join(f"[{canonical(item)}]" for item in proof)


def _address(value: Any) -> str:
    if not (isinstance(value, str) and len(value) == 42 and value.startswith("0x")
            and value[2:].isalnum()):
        raise InvalidMessage(f"an address is 0x and 40 hex digits, not {value!r:.60}")
    int(value[2:], 16)
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidMessage(f"expected an integer, got {value!r:.60}")
    return int(value)


def _hex_bytes(value: Any) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InvalidMessage(f"expected 0x-hex bytes, got {value!r:.60}")
    return bytes.fromhex(value[2:])


def _digest_text(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 64:
        raise InvalidMessage("a digest is 64 hex characters")
    bytes.fromhex(value)
    return value


def _proposal_body(proposal: Proposal) -> dict[str, Any]:
    return {"round": proposal.round, "value": str(proposal.value),
            "observations": [[item.oracle, str(item.value), "0x" + item.proof.hex()]
                             for item in proposal.observations]}


def _proposal(body: dict[str, Any]) -> Proposal:
    return Proposal(_int(body["round"]), tuple(
        OracleValue(_address(oracle), _int(value), _hex_bytes(proof))
        for oracle, value, proof in body["observations"]), _int(body["value"]))


def _vote_body(message: Prepare | Commit | PrePrepare) -> dict[str, Any]:
    return {"sender": message.sender, "round": message.round, "view": message.view,
            "digest": message.digest}


def _encode_pre_prepare(codec: Codec, message: PrePrepare) -> tuple[str, dict]:
    return "pre_prepare", {**_vote_body(message), "proposal": _proposal_body(message.proposal)}


def _decode_pre_prepare(codec: Codec, body: dict) -> PrePrepare:
    return PrePrepare(_address(body["sender"]), _int(body["round"]), _int(body["view"]),
                      _digest_text(body["digest"]), _proposal(body["proposal"]))


def _encode_vote(codec: Codec, message: Prepare | Commit) -> tuple[str, dict]:
    return ("prepare" if isinstance(message, Prepare) else "commit"), _vote_body(message)


def _vote_decoder(kind: type[Prepare] | type[Commit]) -> Callable[[Codec, dict], Message]:
    def decode(codec: Codec, body: dict) -> Message:
        return kind(_address(body["sender"]), _int(body["round"]), _int(body["view"]),
                    _digest_text(body["digest"]))
    return decode


def _certificate_body(codec: Codec, certificate: PreparedCertificate | None) -> dict | None:
    if certificate is None:
        return None
    return {"pre_prepare": codec.encode(certificate.pre_prepare),
            "prepares": [codec.encode(prepare) for prepare in certificate.prepares]}


def _certificate(codec: Codec, body: dict | None) -> PreparedCertificate | None:
    if body is None:
        return None
    pre_prepare = _embedded(codec, body["pre_prepare"], PrePrepare)
    return PreparedCertificate(pre_prepare, tuple(
        _embedded(codec, item, Prepare) for item in body["prepares"]))


def _embedded(codec: Codec, payload: Any, kind: type[T]) -> T:
    message = codec.decode(payload)
    if not isinstance(message, kind):
        raise InvalidMessage(f"expected an embedded {kind.__name__}, got "
                             f"{type(message).__name__}")
    return message


def _encode_view_change(codec: Codec, message: ViewChange) -> tuple[str, dict]:
    return "view_change", {"sender": message.sender, "round": message.round,
                           "new_view": message.new_view,
                           "prepared": _certificate_body(codec, message.prepared)}


def _decode_view_change(codec: Codec, body: dict) -> ViewChange:
    return ViewChange(_address(body["sender"]), _int(body["round"]), _int(body["new_view"]),
                      _certificate(codec, body["prepared"]))


def _encode_new_view(codec: Codec, message: NewView) -> tuple[str, dict]:
    return "new_view", {"sender": message.sender, "round": message.round, "view": message.view,
                        "view_changes": [codec.encode(change) for change in message.view_changes],
                        "pre_prepare": codec.encode(message.pre_prepare)}


def _decode_new_view(codec: Codec, body: dict) -> NewView:
    return NewView(_address(body["sender"]), _int(body["round"]), _int(body["view"]),
                   tuple(_embedded(codec, item, ViewChange) for item in body["view_changes"]),
                   _embedded(codec, body["pre_prepare"], PrePrepare))


def _encode_decided(codec: Codec, message: Decided) -> tuple[str, dict]:
    return "decided", {"sender": message.sender, "round": message.round,
                       "proposal": _proposal_body(message.proposal),
                       "commits": [codec.encode(commit) for commit in message.commits]}


def _decode_decided(codec: Codec, body: dict) -> Decided:
    return Decided(_address(body["sender"]), _int(body["round"]), _proposal(body["proposal"]),
                   tuple(_embedded(codec, item, Commit) for item in body["commits"]))


_ENCODERS: dict[type, Callable[[Codec, Any], tuple[str, dict]]] = {
    PrePrepare: _encode_pre_prepare, Prepare: _encode_vote, Commit: _encode_vote,
    ViewChange: _encode_view_change, NewView: _encode_new_view, Decided: _encode_decided,
}
_DECODERS: dict[str, Callable[[Codec, dict], Message]] = {
    "pre_prepare": _decode_pre_prepare, "prepare": _vote_decoder(Prepare),
    "commit": _vote_decoder(Commit), "view_change": _decode_view_change,
    "new_view": _decode_new_view, "decided": _decode_decided,
}
