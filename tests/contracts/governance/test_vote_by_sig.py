"""cast_vote_by_sig: EIP-712 Ballot signatures, nonces, replay, EIP-1271 wallets."""

import ape
import pytest

from tests.contracts.governance_setup import AGAINST, FOR
from tests.contracts.license_constants import VALIDATOR

INVALID_SIGNATURE = "NodeGovernor: invalid signature"


@pytest.fixture
def active_proposal(proposal, propose, mine_to_active):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    return proposal_id


def test_cast_vote_by_sig__valid_signature__counts_for_voter(
    governor, active_proposal, sign_ballot, alice, mallory, validators
):
    signature = sign_ballot(alice, active_proposal, FOR)

    tx = governor.cast_vote_by_sig(active_proposal, FOR, alice, signature, sender=mallory)

    assert tx.return_value == 1
    assert governor.nonces(alice) == 1
    assert governor.has_voted(active_proposal, alice)
    assert not governor.has_voted(active_proposal, mallory)
    assert governor.proposal_votes(active_proposal) == (0, 1, 0)
    [event] = tx.decode_logs(governor.VoteCast)
    assert (event.voter, event.proposal_id, event.token_id) == (
        alice,
        active_proposal,
        validators[alice],
    )
    assert (event.support, event.weight, event.reason) == (FOR, 1, "")


def test_cast_vote_by_sig__replayed__reverts(
    governor, active_proposal, sign_ballot, alice, mallory
):
    signature = sign_ballot(alice, active_proposal, FOR)
    governor.cast_vote_by_sig(active_proposal, FOR, alice, signature, sender=mallory)

    with ape.reverts(INVALID_SIGNATURE):
        governor.cast_vote_by_sig(active_proposal, FOR, alice, signature, sender=mallory)


def test_cast_vote_by_sig__wrong_signer__reverts(
    governor, active_proposal, sign_ballot, alice, bob
):
    signature = sign_ballot(bob, active_proposal, FOR, voter=alice)

    with ape.reverts(INVALID_SIGNATURE):
        governor.cast_vote_by_sig(active_proposal, FOR, alice, signature, sender=bob)


def test_cast_vote_by_sig__other_support_than_signed__reverts(
    governor, active_proposal, sign_ballot, alice
):
    signature = sign_ballot(alice, active_proposal, AGAINST)

    with ape.reverts(INVALID_SIGNATURE):
        governor.cast_vote_by_sig(active_proposal, FOR, alice, signature, sender=alice)


def test_cast_vote_by_sig__stale_nonce__reverts(governor, active_proposal, sign_ballot, alice):
    signature = sign_ballot(alice, active_proposal, FOR, nonce=1)

    with ape.reverts(INVALID_SIGNATURE):
        governor.cast_vote_by_sig(active_proposal, FOR, alice, signature, sender=alice)


def test_cast_vote_by_sig__malformed_signature__reverts(governor, active_proposal, alice):
    # snekmate's ecdsa rejects an impossible `v` (or a high `s`) itself.
    with ape.reverts("ecdsa: invalid signature"):
        governor.cast_vote_by_sig(active_proposal, FOR, alice, b"\x01" * 65, sender=alice)


def test_cast_vote_by_sig__valid_signature_but_already_voted__reverts(
    governor, active_proposal, sign_ballot, alice
):
    governor.cast_vote(active_proposal, FOR, sender=alice)
    signature = sign_ballot(alice, active_proposal, AGAINST)

    with ape.reverts("NodeGovernor: license already voted"):
        governor.cast_vote_by_sig(active_proposal, AGAINST, alice, signature, sender=alice)

    assert governor.nonces(alice) == 0  # the failed vote did not use the nonce


def test_cast_vote_by_sig__eip1271_wallet__counts(
    project,
    governor,
    proposal,
    propose,
    mine_to_active,
    sign_ballot,
    license,
    as_timelock,
    deployer,
    mallory,
):
    wallet = deployer.deploy(project.ERC1271WalletMock, mallory)
    token_id = license.mint(wallet, VALIDATOR, b"\x06" * 32, sender=as_timelock).return_value
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    signature = sign_ballot(mallory, proposal_id, FOR, voter=wallet)

    tx = governor.cast_vote_by_sig(proposal_id, FOR, wallet, signature, sender=deployer)

    [event] = tx.decode_logs(governor.VoteCast)
    assert (event.voter, event.token_id) == (wallet.address, token_id)
    assert governor.nonces(wallet) == 1


def test_cast_vote_by_sig__eip1271_wallet_rejects__reverts(
    project,
    governor,
    proposal,
    propose,
    mine_to_active,
    sign_ballot,
    license,
    as_timelock,
    deployer,
    alice,
    mallory,
):
    wallet = deployer.deploy(project.ERC1271WalletMock, mallory)
    license.mint(wallet, VALIDATOR, b"\x07" * 32, sender=as_timelock)
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    signature = sign_ballot(alice, proposal_id, FOR, voter=wallet)  # not the wallet's key

    with ape.reverts(INVALID_SIGNATURE):
        governor.cast_vote_by_sig(proposal_id, FOR, wallet, signature, sender=deployer)
