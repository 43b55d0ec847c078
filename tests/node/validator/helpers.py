"""Signed consensus messages for the validator function tests. Signing goes through the
production codec (node/runtime/validator.py); signatures are checked with eth_keys, an
implementation independent of the node's coincurve recovery."""

from __future__ import annotations

from eth_keys import keys
from eth_keys.exceptions import BadSignature, ValidationError

from node.consensus.messages import Commit, OracleValue, Prepare, PrePrepare
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
