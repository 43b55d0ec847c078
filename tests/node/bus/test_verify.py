"""The receiver's checks, without NATS: every reason a message is dropped for."""

from __future__ import annotations

import time
from dataclasses import replace

import orjson
import pytest

from node.bus.envelope import Domain, Signer, decode, encode
from node.bus.membership import Membership
from node.bus.verify import Dropped, DropReason, ReplayGuard, Verifier
from noderr.domain import NodeType
from tests.node.bus.helpers import GUARDIAN_KEY, OBSERVATIONS, ORACLE_KEY, signer


def reason_of(verifier: Verifier, subject: str, data: bytes) -> DropReason:
    with pytest.raises(Dropped) as drop:
        verifier.verify(subject, data)
    return drop.value.reason


def test_verify__valid_frame__message_with_sender_type_and_payload(
        verifier: Verifier, oracle: Signer):
    message = verifier.verify(OBSERVATIONS, oracle.seal(OBSERVATIONS, b'{"value":"101.5"}'))

    assert message.sender == oracle.address
    assert message.node_type is NodeType.ORACLE
    assert message.subject == OBSERVATIONS
    assert message.payload == {"value": "101.5"}


@pytest.mark.parametrize("data", [b"", b'{"value":1}', b"\x01" * 10])
def test_verify__unsigned_or_garbage__malformed(verifier: Verifier, data: bytes):
    assert reason_of(verifier, OBSERVATIONS, data) is DropReason.MALFORMED


@pytest.mark.parametrize("payload", [b"[1,2]", b"not json", b"3"])
def test_verify__payload_not_a_json_object__malformed(verifier: Verifier, oracle: Signer,
                                                      payload: bytes):
    assert reason_of(verifier, OBSERVATIONS, oracle.seal(OBSERVATIONS, payload)) \
        is DropReason.MALFORMED


def test_verify__signed_for_another_subject__subject_mismatch(verifier: Verifier,
                                                              oracle: Signer):
    data = oracle.seal("noderr.oracle.observations.NDX", b"{}")

    assert reason_of(verifier, OBSERVATIONS, data) is DropReason.SUBJECT_MISMATCH


@pytest.mark.parametrize("skew_s", [-31, 31])
def test_verify__timestamp_outside_window__stale(verifier: Verifier, skew_s: int):
    skewed = signer(ORACLE_KEY, NodeType.ORACLE, clock=lambda: time.time() + skew_s)

    assert reason_of(verifier, OBSERVATIONS, skewed.seal(OBSERVATIONS, b"{}")) \
        is DropReason.STALE


def test_verify__signed_by_another_key__bad_signature(verifier: Verifier, oracle: Signer,
                                                       outsider: Signer):
    frame = decode(outsider.seal(OBSERVATIONS, b"{}"))
    forged = encode(replace(frame, envelope=replace(frame.envelope,
                                                    sender=oracle.address_bytes)))

    assert reason_of(verifier, OBSERVATIONS, forged) is DropReason.BAD_SIGNATURE


def test_verify__payload_changed_after_signing__bad_signature(verifier: Verifier,
                                                               oracle: Signer):
    data = oracle.seal(OBSERVATIONS, b'{"value":"101.5"}')

    assert reason_of(verifier, OBSERVATIONS, data.replace(b"101.5", b"999.9")) \
        is DropReason.BAD_SIGNATURE


def test_verify__signed_for_another_chain__bad_signature(verifier: Verifier):
    other_chain = signer(ORACLE_KEY, NodeType.ORACLE, chain_id=1)

    assert reason_of(verifier, OBSERVATIONS, other_chain.seal(OBSERVATIONS, b"{}")) \
        is DropReason.BAD_SIGNATURE


def test_verify__sender_without_license__unlicensed(verifier: Verifier, outsider: Signer):
    assert reason_of(verifier, OBSERVATIONS, outsider.seal(OBSERVATIONS, b"{}")) \
        is DropReason.UNLICENSED


def test_verify__guardian_on_an_oracle_subject__wrong_type(verifier: Verifier,
                                                            guardian: Signer):
    assert reason_of(verifier, OBSERVATIONS, guardian.seal(OBSERVATIONS, b"{}")) \
        is DropReason.WRONG_TYPE


def test_verify__claims_a_type_it_holds_no_license_of__wrong_type(verifier: Verifier):
    posing = signer(GUARDIAN_KEY, NodeType.ORACLE)

    assert reason_of(verifier, OBSERVATIONS, posing.seal(OBSERVATIONS, b"{}")) \
        is DropReason.WRONG_TYPE


def test_verify__subject_no_type_may_speak_on__wrong_type(verifier: Verifier,
                                                           oracle: Signer):
    assert reason_of(verifier, "noderr.admin.mint", oracle.seal("noderr.admin.mint", b"{}")) \
        is DropReason.WRONG_TYPE


def test_verify__any_type_subject__each_licensed_type_accepted(
        verifier: Verifier, oracle: Signer, guardian: Signer, validator: Signer):
    for node in (oracle, guardian, validator):
        message = verifier.verify("noderr.node.announce",
                                  node.seal("noderr.node.announce", b"{}"))
        assert message.node_type is node.node_type


def test_verify__license_removed_at_newer_block__unlicensed(
        verifier: Verifier, membership: Membership, oracle: Signer, guardian: Signer):
    membership.update(membership.block + 1, [(guardian.address, NodeType.GUARDIAN, 2)])

    assert reason_of(verifier, OBSERVATIONS, oracle.seal(OBSERVATIONS, b"{}")) \
        is DropReason.UNLICENSED


def test_admit__same_sequence_twice__replayed(verifier: Verifier, oracle: Signer):
    guard = ReplayGuard(verifier.window_ms)
    data = oracle.seal(OBSERVATIONS, b"{}")
    guard.admit(verifier.verify(OBSERVATIONS, data))

    with pytest.raises(Dropped) as drop:
        guard.admit(verifier.verify(OBSERVATIONS, data))
    assert drop.value.reason is DropReason.REPLAYED
    assert drop.value.sender == oracle.address


def test_admit__older_sequence_after_newer__replayed(verifier: Verifier, oracle: Signer):
    guard = ReplayGuard(verifier.window_ms)
    older, newer = oracle.seal(OBSERVATIONS, b"{}"), oracle.seal(OBSERVATIONS, b"{}")
    guard.admit(verifier.verify(OBSERVATIONS, newer))

    with pytest.raises(Dropped):
        guard.admit(verifier.verify(OBSERVATIONS, older))


def test_admit__sequences_on_other_subjects_interleaved__all_admitted(verifier: Verifier,
                                                                       oracle: Signer):
    guard = ReplayGuard(verifier.window_ms)
    first = oracle.seal("noderr.oracle.observations.NDX", b"{}")
    second = oracle.seal(OBSERVATIONS, b"{}")
    guard.admit(verifier.verify(OBSERVATIONS, second))
    guard.admit(verifier.verify("noderr.oracle.observations.NDX", first))

    assert len(guard) == 2


def test_admit__more_senders_than_the_limit__old_entries_pruned(domain: Domain):
    now = [1_000.0]
    members = Membership()
    signers = [signer(bytes([i + 10]) * 32, NodeType.ORACLE, clock=lambda: now[0])
               for i in range(4)]
    members.update(1, [(node.address, NodeType.ORACLE, i) for i, node in enumerate(signers)])
    verifier = Verifier(domain, members, window_s=30, clock=lambda: now[0])
    guard = ReplayGuard(verifier.window_ms, max_entries=2, clock=lambda: now[0])
    for node in signers[:2]:
        guard.admit(verifier.verify(OBSERVATIONS, node.seal(OBSERVATIONS, b"{}")))
    now[0] += 31
    for node in signers[2:]:
        guard.admit(verifier.verify(OBSERVATIONS, node.seal(OBSERVATIONS, b"{}")))

    assert len(guard) == 2


def test_dropped__reason_values__are_the_metric_labels():
    assert {reason.value for reason in DropReason} == {
        "malformed", "subject_mismatch", "stale", "bad_signature", "unlicensed", "wrong_type",
        "replayed", "flooding"}


def test_verify__payload__decoded_with_orjson(verifier: Verifier, oracle: Signer):
    payload = {"feed": "SP500", "round": 3, "sources": ["a", "b"]}
    message = verifier.verify(OBSERVATIONS, oracle.seal(OBSERVATIONS, orjson.dumps(payload)))

    assert message.payload == payload
