"""Signed consensus messages for the validator function tests. Signing goes through the
production codec (node/runtime/validator.py); signatures are checked with eth_keys, an
implementation independent of the node's coincurve recovery."""

from __future__ import annotations

from eth_keys import keys
from eth_keys.exceptions import BadSignature, ValidationError

from node.consensus.messages import (
    Commit,
    Decided,
    Message,
    NewView,
    OracleValue,
    Prepare,
    PreparedCertificate,
    PrePrepare,
    ViewChange,
)
from node.consensus.proposals import propose
from node.consensus.wire import Codec
from node.runtime.keys import NodeKey, anvil_account
from node.runtime.validator import consensus_codec
from noderr.consensus_text import consensus_domain

CHAIN = 31337
DOMAIN = consensus_domain(CHAIN)
KEYS = [anvil_account(index, CHAIN) for index in (4, 5, 6, 7)]
ORACLES = ("0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20)


def eth_keys_recover(digest: bytes, signature: bytes) -> str | None:
    if len(signature) != 65 or signature[64] not in (27, 28):
        return None
    try:
        signed = keys.Signature(signature[:64] + bytes((signature[64] - 27,)))
        return signed.recover_public_key_from_msg_hash(digest).to_checksum_address()
    except (BadSignature, ValidationError):
        return None


def codec(key: NodeKey) -> Codec:
    return consensus_codec(key, CHAIN)


def proposal(round_number: int, *values: int):
    return propose(round_number, [OracleValue(oracle, value)
                                  for oracle, value in zip(ORACLES, values, strict=False)])


def pre_prepare(key: NodeKey, round_number: int, view: int, *values: int) -> dict:
    made = proposal(round_number, *values)
    return codec(key).encode(PrePrepare(key.address, round_number, view, made.digest, made))


def vote(kind: type[Prepare] | type[Commit], key: NodeKey, round_number: int, view: int,
         digest: str) -> dict:
    return codec(key).encode(kind(key.address, round_number, view, digest))


def every_kind(keys: list[NodeKey], round_number: int) -> list[tuple[Message, dict]]:
    """One message of each kind of round `round_number` with its wire payload, signed by
    `keys` (at least three): the first's pre-prepare in view `round_number`, prepares and
    commits of the first three, the second's view change carrying the prepared certificate and
    the others' without one, the second's new view and its catch-up answer (`decided`)."""
    codecs = [codec(key) for key in keys]
    relay, (first, second, *_) = codecs[1], [key.address for key in keys]
    made = proposal(round_number, 100, 102, 101)
    view = round_number
    kept: list[tuple[Message, dict]] = []

    def sign(author: int, message: Message) -> Message:
        payload = codecs[author].encode(message)
        relay.decode(payload)
        kept.append((message, payload))
        return message

    pre = sign(0, PrePrepare(first, round_number, view, made.digest, made))
    prepares = tuple(sign(index, Prepare(keys[index].address, round_number, view, made.digest))
                     for index in range(3))
    commits = tuple(sign(index, Commit(keys[index].address, round_number, view, made.digest))
                    for index in range(3))
    changes = (sign(1, ViewChange(second, round_number, view + 1,
                                  PreparedCertificate(pre, prepares))),
               *(sign(index, ViewChange(keys[index].address, round_number, view + 1, None))
                 for index in (0, 2)))
    sign(1, NewView(second, round_number, view + 1, changes,
                    PrePrepare(second, round_number, view + 1, made.digest, made)))
    sign(1, Decided(second, round_number, made, commits))
    return kept
