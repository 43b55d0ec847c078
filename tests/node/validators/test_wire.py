"""Consensus messages survive the wire, and a message whose own or embedded signature is not
its sender's, or that was signed for another chain, never reaches the core."""

from __future__ import annotations

import pytest

from node.consensus.messages import (
    Commit,
    Decided,
    NewView,
    OracleValue,
    Prepare,
    PreparedCertificate,
    PrePrepare,
    ViewChange,
    embedded,
)
from node.consensus.proposals import propose
from node.consensus.wire import Codec, InvalidMessage
from node.runtime.keys import anvil_account
from node.runtime.validator import consensus_codec

CHAIN = 31337
KEYS = [anvil_account(index, CHAIN) for index in (5, 6, 7, 9)]


def codecs(chain_id: int = CHAIN) -> list[Codec]:
    return [consensus_codec(key, chain_id) for key in KEYS]


def certificate_and_messages():
    a, b, c, d = (key.address for key in KEYS)
    proposal = propose(8, [OracleValue("0x" + "11" * 20, 100, b"\x01signed frame"),
                           OracleValue("0x" + "22" * 20, 90, b"\x01another")])
    pre_prepare = PrePrepare(a, 8, 8, proposal.digest, proposal)
    prepares = tuple(Prepare(sender, 8, 8, proposal.digest) for sender in (a, b, c))
    commits = tuple(Commit(sender, 8, 8, proposal.digest) for sender in (a, b, c))
    certificate = PreparedCertificate(pre_prepare, prepares)
    changes = tuple(ViewChange(sender, 8, 9, certificate) for sender in (b, c, d))
    new_view = NewView(b, 8, 9, changes, PrePrepare(b, 8, 9, proposal.digest, proposal))
    return pre_prepare, prepares, commits, changes, new_view, Decided(d, 8, proposal, commits)


def by_sender(codec_list: list[Codec]) -> dict[str, Codec]:
    return {codec.me: codec for codec in codec_list}


def encoded_by_authors(message, senders: dict[str, Codec]) -> dict:
    """`message` encoded by its sender, after every embedded author signed their part."""
    for inner in embedded(message):
        senders[inner.sender].encode(inner)
        for codec in senders.values():
            codec.decode(senders[inner.sender].encode(inner))
    return senders[message.sender].encode(message)




def test_decode__every_message_type__round_trips():
    senders = by_sender(codecs())
    receiver = codecs()[0]
    pre_prepare, prepares, commits, changes, new_view, decided = certificate_and_messages()
    for message in (pre_prepare, *prepares, *commits, *changes, new_view, decided):
        assert receiver.decode(encoded_by_authors(message, senders)) == message


def test_decode__embedded_prepare_forged__refused():
    senders = by_sender(codecs())
    *_, changes, _new_view, _decided = certificate_and_messages()
    payload = encoded_by_authors(changes[0], senders)
    forged = payload["body"]["prepared"]["prepares"][1]
    forged["signature"] = payload["body"]["prepared"]["prepares"][0]["signature"]
    with pytest.raises(InvalidMessage, match="not signed by its sender"):
        codecs()[3].decode(payload)


def test_decode__other_chain__refused():
    pre_prepare, *_ = certificate_and_messages()
    payload = by_sender(codecs(chain_id=1))[pre_prepare.sender].encode(pre_prepare)
    with pytest.raises(InvalidMessage, match="not signed by its sender"):
        codecs()[1].decode(payload)


def test_decode__tampered_field__refused():
    _pre_prepare, prepares, *_ = certificate_and_messages()
    payload = by_sender(codecs())[prepares[0].sender].encode(prepares[0])
    payload["body"]["view"] = 9
    with pytest.raises(InvalidMessage):
        codecs()[1].decode(payload)


@pytest.mark.parametrize("payload", [
    None, {}, {"type": "nonsense", "body": {}, "signature": "0x"},
    {"type": "prepare", "body": {"sender": "alice"}, "signature": "0x00"},
    {"type": "prepare", "body": {"sender": KEYS[0].address, "round": "x", "view": 1,
                                 "digest": "00" * 32}, "signature": "0x00"},
])
def test_decode__malformed__refused(payload):
    with pytest.raises(InvalidMessage):
        codecs()[0].decode(payload)


def test_encode__someone_elses_message_never_received__refused():
    _pre_prepare, prepares, *_ = certificate_and_messages()
    with pytest.raises(ValueError, match="no signature"):
        codecs()[0].encode(prepares[1])
