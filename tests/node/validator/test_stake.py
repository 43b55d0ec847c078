"""Stake management: voting power replayed from the license mirror by NodeLicense's snapshot
rules (hand-computed cases of docs/governance.md), double-sign evidence that anyone can check
and that a forged message cannot fake, and the suspension proposal built from it."""

from __future__ import annotations

import pytest
from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from node.consensus.messages import Commit, Prepare, PreparedCertificate, ViewChange
from node.errors import InvalidParameter
from node.validator.stake import (
    LicenseEvent,
    apply_penalty,
    compute_voting_power,
    detect_double_sign,
    verify_evidence,
)
from noderr.consensus_text import consensus_domain
from noderr.domain import NodeType
from tests.node.validator.helpers import (
    DOMAIN,
    KEYS,
    codec,
    eth_keys_recover,
    pre_prepare,
    proposal,
    vote,
)

A, B, C, D = ("0x" + digit * 40 for digit in "abcd")
LICENSE = "0x" + "5" * 40


def mirror() -> list[LicenseEvent]:
    """Block 5: A, B, C Validators (tokens 1-3), D an Oracle (4); 8: B suspended; 10: B
    reinstated; 12: C revoked; 14: A's license reassigned to D; 16: D minted a Validator."""
    return [
        LicenseEvent("minted", 1, 5, 0, A, NodeType.VALIDATOR),
        LicenseEvent("minted", 2, 5, 1, B, NodeType.VALIDATOR),
        LicenseEvent("minted", 3, 5, 2, C, NodeType.VALIDATOR),
        LicenseEvent("minted", 4, 5, 3, D, NodeType.ORACLE),
        LicenseEvent("suspended", 2, 8),
        LicenseEvent("reinstated", 2, 10),
        LicenseEvent("revoked", 3, 12),
        LicenseEvent("reassigned", 1, 14, owner=C),
        LicenseEvent("minted", 5, 16, 0, D, NodeType.VALIDATOR),
    ]


@pytest.mark.parametrize(("snapshot", "voters", "live"), [
    (4, set(), 0),
    (5, {A, B, C}, 3),
    (8, {A, C}, 3),       # suspended at the snapshot: no vote, still in the quorum base
    (10, {A, B, C}, 3),
    (12, {A, B}, 2),      # revoked: out of both
    (14, {C, B}, 2),      # reassigned: the new holder votes
    (15, {C, B}, 2),
    (16, {C, B, D}, 3),   # the Oracle license never votes, the new Validator one does
])
def test_compute_voting_power__mirror__matches_snapshot_rules(snapshot, voters, live):
    power = compute_voting_power(reversed(mirror()), snapshot)

    assert set(power.power) == {to_checksum_address(address) for address in voters}
    assert all(votes == 1 for votes in power.power.values())
    assert (power.total, power.live_supply) == (len(voters), live)


def test_compute_voting_power__last_change_in_the_snapshot_block__counts():
    events = [LicenseEvent("minted", 1, 5, 0, A, NodeType.VALIDATOR),
              LicenseEvent("suspended", 1, 7, 3), LicenseEvent("reinstated", 1, 7, 9)]

    assert compute_voting_power(events, 7).total == 1
    assert compute_voting_power(events[:2], 7).total == 0


@pytest.mark.parametrize("events", [
    [LicenseEvent("suspended", 1, 5)],
    [LicenseEvent("minted", 1, 5, 0, A, NodeType.VALIDATOR), LicenseEvent("reinstated", 1, 6)],
    [LicenseEvent("minted", 1, 5, 0, A, NodeType.VALIDATOR),
     LicenseEvent("minted", 1, 6, 0, B, NodeType.VALIDATOR)],
    [LicenseEvent("burned", 1, 5)],
    [LicenseEvent("minted", 1, 5, 0, "0x12", NodeType.VALIDATOR)],
    [LicenseEvent("minted", 1, 5, 0, A, 9)],
])
def test_compute_voting_power__impossible_mirror__refused(events):
    with pytest.raises(InvalidParameter):
        compute_voting_power(events, 10)


def test_compute_voting_power__negative_snapshot__refused():
    with pytest.raises(InvalidParameter, match="snapshot"):
        compute_voting_power(mirror(), -1)


def equivocation() -> tuple[dict, dict]:
    """The leader's two pre-prepares for round 8, view 0, over different observations."""
    return pre_prepare(KEYS[0], 8, 0, 100, 101, 102), pre_prepare(KEYS[0], 8, 0, 200, 201, 202)


def test_detect_double_sign__two_pre_prepares__evidence_anyone_verifies():
    first, second = equivocation()
    honest = vote(Prepare, KEYS[1], 8, 0, proposal(8, 100, 101, 102).digest)

    found = detect_double_sign([first, honest, second, first], DOMAIN, eth_keys_recover)

    assert len(found) == 1
    evidence = found[0]
    assert (evidence.signer, evidence.round, evidence.view, evidence.phase) == (
        KEYS[0].address, 8, 0, "pre_prepare")
    assert {id(evidence.first), id(evidence.second)} == {id(first), id(second)}
    assert verify_evidence(evidence, DOMAIN, eth_keys_recover)
    assert not verify_evidence(evidence, consensus_domain(1), eth_keys_recover)


def test_detect_double_sign__arrival_order__same_digest():
    first, second = equivocation()

    one = detect_double_sign([first, second], DOMAIN, eth_keys_recover)[0]
    other = detect_double_sign([second, first], DOMAIN, eth_keys_recover)[0]

    assert one.digest == other.digest and len(one.digest) == 64


def test_detect_double_sign__conflict_embedded_in_a_view_change__found():
    digest_a, digest_b = proposal(8, 1, 2, 3).digest, proposal(8, 4, 5, 6).digest
    signer = codec(KEYS[2])
    direct = vote(Prepare, KEYS[2], 8, 0, digest_a)
    conflicting = Prepare(KEYS[2].address, 8, 0, digest_b)
    signer.encode(conflicting)
    leader = codec(KEYS[0])
    leader_pre_prepare = leader.decode(pre_prepare(KEYS[0], 8, 0, 4, 5, 6))
    helper = codec(KEYS[3])
    helper.decode(signer.encode(conflicting))
    helper.decode(leader.encode(leader_pre_prepare))
    change = helper.encode(ViewChange(KEYS[3].address, 8, 1, PreparedCertificate(
        leader_pre_prepare, (conflicting,))))

    found = detect_double_sign([direct, change], DOMAIN, eth_keys_recover)

    assert [(item.signer, item.phase) for item in found] == [(KEYS[2].address, "prepare")]


def test_detect_double_sign__forged_second_message__no_evidence():
    """The defence: a message claiming the signer but signed by someone else, or carrying a
    copied signature, incriminates nobody."""
    first, second = equivocation()
    by_other = pre_prepare(KEYS[1], 8, 0, 200, 201, 202)
    forged = {**by_other, "body": {**by_other["body"], "sender": KEYS[0].address}}
    copied = {**second, "signature": first["signature"]}

    assert detect_double_sign([first, forged], DOMAIN, eth_keys_recover) == ()
    assert detect_double_sign([first, copied], DOMAIN, eth_keys_recover) == ()


@pytest.mark.parametrize("other", [
    lambda: pre_prepare(KEYS[0], 8, 1, 200, 201, 202),   # another view
    lambda: pre_prepare(KEYS[0], 9, 0, 200, 201, 202),   # another round
    lambda: vote(Commit, KEYS[0], 8, 0, proposal(8, 200, 201, 202).digest),  # another phase
    lambda: pre_prepare(KEYS[0], 8, 0, 100, 101, 102),   # the same message again
])
def test_detect_double_sign__no_conflict__no_evidence(other):
    assert detect_double_sign([equivocation()[0], other()], DOMAIN, eth_keys_recover) == ()


def test_verify_evidence__message_swapped_for_another_signers__false():
    evidence = detect_double_sign(list(equivocation()), DOMAIN, eth_keys_recover)[0]
    other = pre_prepare(KEYS[1], 8, 0, 300, 301, 302)
    tampered = type(evidence)(evidence.signer, 8, 0, "pre_prepare", evidence.first, other)

    assert not verify_evidence(tampered, DOMAIN, eth_keys_recover)


def test_apply_penalty__evidence__suspend_proposal_quoting_its_digest():
    evidence = detect_double_sign(list(equivocation()), DOMAIN, eth_keys_recover)[0]

    proposal_call = apply_penalty(evidence, LICENSE, 3)

    assert proposal_call.targets == (LICENSE,)
    assert proposal_call.values == (0,)
    calldata = proposal_call.calldatas[0]
    assert calldata[:4] == keccak(text="suspend(uint256,string)")[:4]
    token_id, reason = decode(["uint256", "string"], calldata[4:])
    assert token_id == 3 and evidence.digest in reason and len(reason) <= 256
    assert f"sha256:{evidence.digest}" in proposal_call.description
    assert KEYS[0].address in proposal_call.description


@pytest.mark.parametrize("token_id", [0, -1, True])
def test_apply_penalty__no_license__refused(token_id):
    evidence = detect_double_sign(list(equivocation()), DOMAIN, eth_keys_recover)[0]
    with pytest.raises(InvalidParameter, match="token_id"):
        apply_penalty(evidence, LICENSE, token_id)
