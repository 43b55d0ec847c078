"""Validators govern the network: they vote to make a new address a NodeLicense minter.

propose -> vote (directly, with a reason and by EIP-712 signature) -> queue in the timelock
-> wait the timelock delay -> execute -> the new minter mints a license.
"""

import ape

from onchain.ballot import ballot_message
from tests.contracts.governance_setup import (
    AGAINST,
    EXECUTED,
    FOR,
    MIN_DELAY,
    PENDING,
    QUEUED,
    SUCCEEDED,
    call,
)
from tests.contracts.license_constants import (
    ACTIVE,
    DEFAULT_ADMIN_ROLE,
    MINTER_ROLE,
    MISSING_ROLE,
    ORACLE,
    application_id,
)


def ballot(chain, governor, proposal_id, support, voter):
    return ballot_message(chain.chain_id, governor.address, proposal_id, support,
                          voter.address, governor.nonces(voter), governor.name(),
                          governor.version())


def test_governance_flow__validators_grant_minter_role__new_minter_mints(
    chain, governance, license, deployer, alice, bob, carol, dave, mallory, new_minter
):
    governor, timelock = governance.governor, governance.timelock

    # Only governance can hand out roles now.
    assert license.hasRole(DEFAULT_ADMIN_ROLE, timelock)
    with ape.reverts(MISSING_ROLE):
        license.grantRole(MINTER_ROLE, new_minter, sender=deployer)
    with ape.reverts(MISSING_ROLE):
        license.mint(mallory, ORACLE, application_id(1), sender=new_minter)

    # 1. A validator proposes license.grantRole(MINTER_ROLE, new_minter).
    proposal = call(license, "grantRole", MINTER_ROLE, new_minter.address)
    tx = governor.propose(*proposal.propose_args, sender=alice)
    proposal_id = tx.return_value
    [created] = tx.decode_logs(governor.ProposalCreated)
    assert created.proposal_id == proposal_id
    assert [bytes(c) for c in created.calldatas] == [bytes(proposal.calldatas[0])]
    assert governor.state(proposal_id) == PENDING

    # 2. Validators vote once the snapshot block is past.
    chain.mine(governor.proposal_snapshot(proposal_id) + 1 - chain.blocks.head.number)
    governor.cast_vote(proposal_id, FOR, sender=alice)
    governor.cast_vote_with_reason(proposal_id, FOR, "we need a second minter", sender=bob)
    signature = carol.sign_message(ballot(chain, governor, proposal_id, FOR, carol)).encode_rsv()
    relayed = governor.cast_vote_by_sig(proposal_id, FOR, carol, signature, sender=mallory)
    [vote] = relayed.decode_logs(governor.VoteCast)
    assert (vote.voter, vote.support, vote.weight) == (carol.address, FOR, 1)
    governor.cast_vote(proposal_id, AGAINST, sender=dave)
    assert governor.proposal_votes(proposal_id) == (1, 3, 0)

    # 3. Voting ends: quorum (2 of 4) reached, For > Against.
    chain.mine(governor.proposal_deadline(proposal_id) + 1 - chain.blocks.head.number)
    assert governor.state(proposal_id) == SUCCEEDED

    # 4. Anyone queues it in the timelock.
    queued = governor.queue(*proposal.args, sender=mallory)
    eta = governor.proposal_eta(proposal_id)
    assert eta == chain.blocks[queued.block_number].timestamp + MIN_DELAY
    assert governor.state(proposal_id) == QUEUED
    with ape.reverts("NodeGovernor: timelock delay not elapsed"):
        governor.execute(*proposal.args, sender=mallory)
    assert not license.hasRole(MINTER_ROLE, new_minter)

    # 5. After the timelock delay anyone executes it; the timelock grants the role.
    chain.pending_timestamp = eta
    executed = governor.execute(*proposal.args, sender=mallory)
    [done] = executed.decode_logs(governor.ProposalExecuted)
    assert done.proposal_id == proposal_id
    [granted] = executed.decode_logs(license.RoleGranted)
    assert (granted.role, granted.account, granted.sender) == (
        MINTER_ROLE,
        new_minter.address,
        timelock.address,
    )
    assert governor.state(proposal_id) == EXECUTED
    assert license.hasRole(MINTER_ROLE, new_minter)

    # 6. The new minter mints a license.
    minted = license.mint(mallory, ORACLE, application_id(1), sender=new_minter)
    token_id = minted.return_value
    assert license.ownerOf(token_id) == mallory
    assert license.token_of(mallory, ORACLE) == token_id
    node_type, status, minted_block, app_id = license.license_of(token_id)
    assert (node_type, status, minted_block, app_id) == (
        ORACLE,
        ACTIVE,
        minted.block_number,
        application_id(1),
    )
