"""noderr/consensus_text.py against the consensus codec: the text a message's signature covers
is read back into the message's phase, sender, round, view and proposal digest, and its
signature recovers to its sender only for that very text."""

from __future__ import annotations

import pytest

from node.consensus.messages import Decided, NewView, ViewChange
from node.consensus.wire import canonical
from noderr.consensus_text import (
    SECP256K1_N,
    MalformedText,
    read,
    signed_digest,
    signer,
)
from tests.node.validator.helpers import CHAIN, KEYS, every_kind

MESSAGES = every_kind(KEYS, 7)
PHASE = {"PrePrepare": "pre_prepare", "Prepare": "prepare", "Commit": "commit",
         "ViewChange": "view_change", "NewView": "new_view", "Decided": "decided"}
A_DIGEST = "ab" * 32


def expected_digest(message) -> str | None:
    if isinstance(message, ViewChange):
        return message.prepared and message.prepared.pre_prepare.digest
    if isinstance(message, NewView):
        return message.pre_prepare.digest
    if isinstance(message, Decided):
        return message.proposal.digest
    return message.digest


def expected_view(message) -> int | None:
    if isinstance(message, ViewChange):
        return message.new_view
    return None if isinstance(message, Decided) else message.view


def signature(payload: dict) -> bytes:
    return bytes.fromhex(payload["signature"][2:])


def test_read__every_kind__the_message_fields():
    assert {PHASE[type(message).__name__] for message, _ in MESSAGES} == set(PHASE.values())
    for message, _ in MESSAGES:
        text = read(canonical(message))
        assert (text.phase, text.sender, text.round, text.view, text.digest) == (
            PHASE[type(message).__name__], message.sender, message.round,
            expected_view(message), expected_digest(message)), message


def test_signer__codec_signature_over_its_text__the_sender():
    for message, payload in MESSAGES:
        digest = signed_digest(CHAIN, canonical(message))
        assert signer(digest, signature(payload)) == message.sender.lower()


def test_signer__another_text_or_chain__not_the_sender():
    message, payload = MESSAGES[1]
    text = canonical(message)
    for digest in (signed_digest(CHAIN, text.replace(message.digest, A_DIGEST)),
                   signed_digest(CHAIN + 1, text)):
        assert signer(digest, signature(payload)) != message.sender.lower()


def test_signer__high_s_twin__refused():
    message, payload = MESSAGES[1]
    raw = signature(payload)
    s = int.from_bytes(raw[32:64], "big")
    twin = raw[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes((55 - raw[64],))
    assert signer(signed_digest(CHAIN, canonical(message)), twin) is None


SENDER = KEYS[0].address


@pytest.mark.parametrize("text", [
    "", "vote|{s}|7|7|{d}", "prepare|{s}|7|7", "prepare|{s}|07|7|{d}", "prepare|0x12|7|7|{d}",
    "prepare|{s}|7|7|{d}|extra", "prepare|{s}|7|7|{D}", "prepare|{s}|7|7|{d}[commit|{s}|7|7|{d}]",
    "view_change|{s}|7|8[prepare|{s}|7|7|{d}]", "view_change|{s}|7|8[pre_prepare|{s}|7|7|{d}",
    "view_change|{s}|7|8[pre_prepare|{s}|7|7|{d}]x", "new_view|{s}|7|8",
    "decided|{s}|7|8|{d}", "prepare|{s}|99999999999999999999|7|{d}",
    "view_change|{s}|7|8[pre_prepare|{s}|7|7|{d}][\ud800]",
])
def test_read__not_a_canonical_text__malformed(text):
    with pytest.raises(MalformedText):
        read(text.format(s=SENDER, d=A_DIGEST, D=A_DIGEST.upper()))
