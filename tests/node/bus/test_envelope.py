"""The envelope: EIP-712 digest, frame encoding and the signer."""

from __future__ import annotations

import time

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from node.bus.envelope import (
    HALF_N,
    SECP256K1_N,
    Domain,
    Envelope,
    Frame,
    MalformedFrame,
    Signer,
    decode,
    encode,
    keccak,
    recover,
)
from noderr.domain import NodeType
from tests.node.bus.helpers import CHAIN_ID, ORACLE_KEY, signer


def test_digest__envelope__equals_eth_account_typed_data_hash(domain: Domain, oracle: Signer):
    envelope = decode(oracle.seal("noderr.oracle.observations.SP500", b'{"v":1}')).envelope
    expected = encode_typed_data(full_message=domain.typed_data(envelope))

    assert domain.digest(envelope) == keccak(b"\x19" + expected.version + expected.header
                                             + expected.body)


def test_recover__eth_account_signature_of_typed_data__recovers_sender(domain: Domain):
    account = Account.from_key(ORACLE_KEY)
    envelope = Envelope(bytes.fromhex(account.address[2:]), NodeType.ORACLE, 5,
                        int(time.time() * 1000), "noderr.node.announce", keccak(b"{}"))
    signed = Account.sign_typed_data(ORACLE_KEY, full_message=domain.typed_data(envelope))

    assert recover(domain.digest(envelope), signed.signature) == envelope.sender


def test_seal__frame__decodes_to_what_was_signed(oracle: Signer, domain: Domain):
    before_us = time.time_ns() // 1000
    frame = decode(oracle.seal("noderr.oracle.observations.SP500", b'{"value":"1.5"}'))

    envelope = frame.envelope
    assert envelope.sender == oracle.address_bytes
    assert envelope.node_type == NodeType.ORACLE
    assert envelope.subject == "noderr.oracle.observations.SP500"
    assert envelope.payload_hash == keccak(b'{"value":"1.5"}')
    assert frame.payload == b'{"value":"1.5"}'
    assert abs(envelope.sequence - before_us) < 60_000_000
    assert recover(domain.digest(envelope), frame.signature) == oracle.address_bytes


def test_seal__successive_messages__sequence_grows_by_one():
    first_signer = signer(ORACLE_KEY, NodeType.ORACLE)
    sequences = [decode(first_signer.seal("noderr.node.announce", b"{}")).envelope.sequence
                 for _ in range(3)]
    restarted = signer(ORACLE_KEY, NodeType.ORACLE)

    assert sequences[1] == sequences[0] + 1 and sequences[2] == sequences[1] + 1
    assert decode(restarted.seal("noderr.node.announce", b"{}")).envelope.sequence > sequences[2]


def test_seal__timestamp__is_unix_milliseconds_of_the_signers_clock():
    clocked = signer(ORACLE_KEY, NodeType.ORACLE, clock=lambda: 1_700_000_000.25)

    assert decode(clocked.seal("noderr.node.announce", b"{}")).envelope.timestamp_ms \
        == 1_700_000_000_250


def test_repr__signer__shows_address_never_the_key(oracle: Signer):
    assert oracle.address in repr(oracle)
    assert ORACLE_KEY.hex() not in repr(oracle)
    assert not hasattr(oracle, "__dict__")


@pytest.mark.parametrize("data", [
    b"", b"hello", b"\x01" + b"\x00" * 50, b"\x02" + b"\x00" * 120,
    b"\x01" + b"\x00" * 102 + b"\x00\xff" + b"abc", b"\x01" + b"\x00" * 102 + b"\x00\x02\xff\xfe",
], ids=["empty", "text", "truncated", "other-version", "subject-past-end", "subject-not-utf8"])
def test_decode__not_a_frame__malformed(data: bytes):
    with pytest.raises(MalformedFrame):
        decode(data)


def test_recover__high_s_twin_of_a_valid_signature__refused(oracle: Signer, domain: Domain):
    frame = decode(oracle.seal("noderr.node.announce", b"{}"))
    r, s, v = frame.signature[:32], int.from_bytes(frame.signature[32:64], "big"), \
        frame.signature[64]
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes((55 - v,))

    assert s <= HALF_N
    assert recover(domain.digest(frame.envelope), twin) is None


@pytest.mark.parametrize("v", [0, 1, 29])
def test_recover__v_not_27_or_28__refused(oracle: Signer, domain: Domain, v: int):
    frame = decode(oracle.seal("noderr.node.announce", b"{}"))

    assert recover(domain.digest(frame.envelope), frame.signature[:64] + bytes((v,))) is None


def test_encode__frame__round_trips(oracle: Signer):
    frame = decode(oracle.seal("noderr.guardian.halt", b'{"reason":"drawdown"}'))

    assert decode(encode(Frame(frame.envelope, frame.signature, frame.payload))) == frame


def test_domain__other_chain__other_separator():
    assert Domain(CHAIN_ID).separator != Domain(1).separator
