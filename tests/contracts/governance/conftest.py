"""Fixtures of the governance tests: four validators, the wired governance, proposal helpers.

Base fixtures (deployer, minter, revoker, alice, bob, carol, dave, mallory, mint) come
from tests/contracts/conftest.py; here `license` is the one `deploy_governance` deployed
with the production wiring. Governance is module-scoped: each test module deploys its own
(the e2e flows deploy theirs with the same validators), and ape's per-test isolation
reverts each test.
"""

import ape.exceptions
import pytest

from onchain.ballot import ballot_message
from tests.contracts.governance_setup import FOR, Proposal, call, deploy_governance
from tests.contracts.license_constants import VALIDATOR


@pytest.fixture(autouse=True)
def _skip_vyper_source_tracebacks(monkeypatch):
    """Don't map reverted transactions back to Vyper source lines.

    For every reverted transaction ape replays its opcode trace through ape-vyper to build
    a source traceback (seconds per revert, 40 s for one that bubbles up through the
    timelock). These tests assert the revert reason itself and never read that traceback.
    """
    monkeypatch.setattr(ape.exceptions, "_get_ape_traceback_from_tx", lambda txn: None)


@pytest.fixture(scope="module")
def deployed(project, deployer, minter, revoker, pauser, alice, bob, carol, dave):
    """NodeLicense, NodeTimelock and NodeGovernor, wired as `noderr deploy` wires them, with
    alice, bob, carol and dave the genesis validators."""
    return deploy_governance(project, deployer, minter, revoker, pauser,
                             (alice, bob, carol, dave))


@pytest.fixture(scope="module")
def license(deployed):
    return deployed.license


@pytest.fixture(scope="module")
def validators(license, alice, bob, carol, dave):
    """The four genesis Validator licenses: {account: token_id}."""
    return {account: license.token_of(account, VALIDATOR) for account in (alice, bob, carol, dave)}


@pytest.fixture(scope="module")
def governance(deployed, validators):
    """The deployed governance, four validators holding their votes."""
    return deployed


@pytest.fixture(scope="module")
def governor(governance):
    return governance.governor


@pytest.fixture(scope="module")
def timelock(governance):
    return governance.timelock


@pytest.fixture(scope="module")
def as_timelock(accounts, timelock):
    """The timelock as a sender: stands for 'a proposal executed through governance'."""
    account = accounts[timelock.address]
    account.balance += 10**18
    return account


@pytest.fixture(scope="session")
def new_minter(accounts):
    """A fresh account that holds nothing."""
    return accounts.generate_test_account()


@pytest.fixture(scope="module")
def proposal(governor):
    """A simple proposal: governance changes its own voting delay."""
    return call(governor, "set_voting_delay", 5)


@pytest.fixture
def propose(governor, alice):
    """Factory: propose(proposal=..., sender=alice) -> proposal id."""

    def _propose(prop: Proposal, sender=alice):
        return governor.propose(*prop.propose_args, sender=sender).return_value

    return _propose


@pytest.fixture
def mine_to_active(chain, governor):
    """Mine past the proposal's snapshot: views (run at the head) and new votes see Active."""

    def _mine(proposal_id):
        blocks = governor.proposal_snapshot(proposal_id) + 1 - chain.blocks.head.number
        if blocks > 0:
            chain.mine(blocks)

    return _mine


@pytest.fixture
def mine_past_deadline(chain, governor):
    """Mine past the proposal's deadline: voting has ended, views see the outcome."""

    def _mine(proposal_id):
        blocks = governor.proposal_deadline(proposal_id) + 1 - chain.blocks.head.number
        if blocks > 0:
            chain.mine(blocks)

    return _mine


@pytest.fixture
def passed(propose, governor, alice, bob, mine_to_active, mine_past_deadline):
    """Factory: a proposal voted For by alice and bob (quorum 2 of 4), voting ended."""

    def _passed(prop: Proposal):
        proposal_id = propose(prop)
        mine_to_active(proposal_id)
        governor.cast_vote(proposal_id, FOR, sender=alice)
        governor.cast_vote(proposal_id, FOR, sender=bob)
        mine_past_deadline(proposal_id)
        return proposal_id

    return _passed


@pytest.fixture
def queued(passed, governor, deployer):
    """Factory: a passed proposal, queued in the timelock."""

    def _queued(prop: Proposal):
        proposal_id = passed(prop)
        governor.queue(*prop.args, sender=deployer)
        return proposal_id

    return _queued


@pytest.fixture
def wait_for_eta(chain, governor):
    """Move time so that the next block is at the proposal's eta (plus `extra` seconds)."""

    def _wait(proposal_id, extra=0):
        chain.pending_timestamp = governor.proposal_eta(proposal_id) + extra

    return _wait


@pytest.fixture
def sign_ballot(chain, governor):
    """Factory: an EIP-712 Ballot signature by `signer` (bytes r || s || v)."""

    def _sign(signer, proposal_id, support, voter=None, nonce=None):
        voter = voter or signer
        nonce = governor.nonces(voter) if nonce is None else nonce
        message = ballot_message(chain.chain_id, governor.address, proposal_id, support,
                                 str(voter), nonce)
        return signer.sign_message(message).encode_rsv()

    return _sign
