"""The signed text of a validators' consensus message, as anyone holding the chain id checks it.

A consensus message's signature (node/consensus/wire.py) is its author's over
sha256(domain ‖ text), the domain naming the chain and the text the message's canonical form:

    pre_prepare|<sender>|<round>|<view>|<digest>
    prepare|<sender>|<round>|<view>|<digest>
    commit|<sender>|<round>|<view>|<digest>
    view_change|<sender>|<round>|<new view>[<pre_prepare>][<prepare>]…   (its prepared certificate)
    new_view|<sender>|<round>|<view>[<view_change>]…[<pre_prepare>]
    decided|<sender>|<round>|<proposal digest>[<commit>]…

each bracketed part being an embedded message's own text. In the kernel because the node signs
and checks these texts and the backend checks the ones validators report (GET
/network/rounds/{feed}/{round}/messages) without trusting the reporter.

`read` takes a text apart: its phase, sender, round, view (a view change's new view; none for
`decided`, which closes the round whatever the view) and the proposal digest it stands for
(a vote's, a new view's pre-prepare's, a view change's prepared certificate's; none for a view
change that prepared nothing)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import coincurve
from eth_utils import keccak

CONSENSUS_DOMAIN_TAG = b"noderr.consensus"
PHASES = ("pre_prepare", "prepare", "commit", "view_change", "new_view", "decided")
VOTES = ("pre_prepare", "prepare", "commit")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_NUMBER = re.compile(r"0|[1-9][0-9]{0,18}")
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = SECP256K1_N // 2
"""A signature's s above half the order is the high-s twin of another: refused."""


class MalformedText(ValueError):
    """A text that is not the canonical text of a consensus message."""


@dataclass(frozen=True)
class SignedText:
    phase: str
    sender: str
    round: int
    view: int | None
    digest: str | None


def consensus_domain(chain_id: int) -> bytes:
    """What every consensus message's signature binds besides the message: the chain id."""
    return CONSENSUS_DOMAIN_TAG + chain_id.to_bytes(32, "big")


def signed_digest(chain_id: int, text: str) -> bytes:
    """The 32 bytes a consensus message's author signs."""
    return hashlib.sha256(consensus_domain(chain_id) + text.encode()).digest()


def signer(digest: bytes, signature: bytes) -> str | None:
    """The lowercase 0x address that signed `digest`, or None for a signature that is not a
    valid low-s (r, s, v) of one, as the bus and the consensus codec check it."""
    if len(signature) != 65 or signature[64] not in (27, 28) \
            or int.from_bytes(signature[32:64], "big") > HALF_N:
        return None
    try:
        public_key = coincurve.PublicKey.from_signature_and_message(
            signature[:64] + bytes((signature[64] - 27,)), digest, hasher=None)
    except ValueError:
        return None
    return "0x" + keccak(public_key.format(compressed=False)[1:])[12:].hex()


def read(text: str) -> SignedText:
    if not text.isascii():
        raise MalformedText("a consensus message's text is ASCII")
    head, parts = _split(text)
    fields = head.split("|")
    phase = fields[0]
    if phase not in PHASES or len(fields) != (5 if phase in VOTES else 4):
        raise MalformedText(f"not the head of a consensus message: {head[:80]!r}")
    sender, round_number = _address(fields[1]), _number(fields[2])
    if phase == "decided":
        return SignedText(phase, sender, round_number, None, _digest(fields[3]))
    view = _number(fields[3])
    if phase in VOTES:
        if parts:
            raise MalformedText(f"a {phase} embeds nothing")
        return SignedText(phase, sender, round_number, view, _digest(fields[4]))
    if phase == "view_change":
        return SignedText(phase, sender, round_number, view,
                          _pre_prepare_digest(parts[0]) if parts else None)
    if not parts:
        raise MalformedText("a new view embeds its pre-prepare")
    return SignedText(phase, sender, round_number, view, _pre_prepare_digest(parts[-1]))


def _pre_prepare_digest(text: str) -> str | None:
    """The digest of an embedded pre-prepare (read flat: no deeper nesting to walk)."""
    embedded = read(text)
    if embedded.phase != "pre_prepare":
        raise MalformedText(f"expected an embedded pre_prepare, got {embedded.phase}")
    return embedded.digest


def _split(text: str) -> tuple[str, list[str]]:
    """The head of `text` and its top-level bracketed parts."""
    head_end = text.find("[")
    if head_end < 0:
        return text, []
    parts, depth, start = [], 0, head_end
    for index in range(head_end, len(text)):
        char = text[index]
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise MalformedText("unbalanced brackets")
            if depth == 0:
                parts.append(text[start + 1:index])
                start = index + 1
        elif depth == 0:
            raise MalformedText("text between embedded messages")
    if depth:
        raise MalformedText("unbalanced brackets")
    return text[:head_end], parts


def _address(value: str) -> str:
    if not _ADDRESS.fullmatch(value):
        raise MalformedText(f"not an address: {value[:50]!r}")
    return value


def _number(value: str) -> int:
    if not _NUMBER.fullmatch(value):
        raise MalformedText(f"not a number: {value[:30]!r}")
    return int(value)


def _digest(value: str) -> str:
    if not _DIGEST.fullmatch(value):
        raise MalformedText(f"not a digest: {value[:80]!r}")
    return value
