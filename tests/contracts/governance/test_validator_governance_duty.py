"""The governance duty of a configured validator node on the real governor: given alice's
double-sign evidence, bob's duty submits the apply_penalty proposal with the id the node
computes, votes For once it is Active, and neither it nor the same node restarted proposes or
votes twice. The backend mirror stands as the
governor's and the license's own events (what the indexer copies)."""

from __future__ import annotations

import asyncio
import time

from node.execution import ExecutionLog
from node.runtime.governance_duty import (
    Addresses,
    GovernanceDuty,
    GovernancePolicy,
    GovernorChain,
    MirroredProposal,
    ValidatorLicense,
)
from node.runtime.keys import anvil_account
from node.validator.calls import ProposalCall
from node.validator.governance import State, Support
from node.validator.stake import apply_penalty, detect_double_sign
from tests.node.validator.helpers import DOMAIN, KEYS, eth_keys_recover, pre_prepare

POLICY_DECLARED = {
    "propose_penalties": True,
    "vote": {"rules": [{"when": "suspends_double_signer", "vote": "for"}], "otherwise": None}}
POLICY = GovernancePolicy.parse(POLICY_DECLARED)
BOB_INDEX = 5


def mined(chain) -> None:
    """Wait until anvil has mined every transaction it accepted (it answers
    eth_sendRawTransaction before it mines the transaction)."""
    web3 = chain.provider.web3
    for _ in range(500):
        if not web3.eth.get_block("pending")["transactions"]:
            return
        time.sleep(0.01)
    raise AssertionError("anvil did not mine the node's transactions")


def logged(chain, event) -> list:
    """Every log of `event` up to the chain's head as the node's JSON-RPC sees it (ape's
    `range` stops at its cached head, which can lag transactions ape did not send)."""
    mined(chain)
    logs = chain.provider.web3.eth.get_logs({"address": event.contract.address,
                                             "fromBlock": 0, "toBlock": "latest"})
    return list(chain.provider.network.ecosystem.decode_logs(
        [dict(item) for item in logs], event.abi))


class EventMirror:
    """The mirror's proposals and Validator licenses, read from the contracts' events."""

    def __init__(self, chain, governor, validators) -> None:
        self.chain, self.governor, self.validators = chain, governor, validators

    async def proposals(self) -> list[MirroredProposal]:
        return [MirroredProposal(ProposalCall.of(log.targets, log.values, log.calldatas,
                                                 log.description), "created", log.vote_start,
                                 log.vote_end, log.block_number)
                for log in logged(self.chain, self.governor.ProposalCreated)]

    async def validator_licenses(self) -> list[ValidatorLicense]:
        return [ValidatorLicense(token, str(account), True)
                for account, token in self.validators.items()]


def bob_duty(chain, governor, license, validators, evidence,
             policy: GovernancePolicy = POLICY) -> GovernanceDuty:
    abi = [item.model_dump(mode="json", by_alias=True) for item in governor.contract_type.abi]
    key = anvil_account(BOB_INDEX, chain.chain_id)
    addresses = Addresses(governor.address, license.address)
    on_chain = GovernorChain(chain.provider.uri, key, chain.chain_id, addresses, abi)
    return GovernanceDuty(policy, key.address, addresses, on_chain,
                          EventMirror(chain, governor, validators), ExecutionLog(),
                          {evidence.digest: evidence}, DOMAIN, eth_keys_recover, every=0)


def alice_double_signs():
    [evidence] = detect_double_sign([pre_prepare(KEYS[0], 8, 0, 1, 2, 3),
                                     pre_prepare(KEYS[0], 8, 0, 4, 5, 6)], DOMAIN,
                                    eth_keys_recover)
    return evidence


def test_duty__double_sign_evidence__penalty_proposed_and_voted_for(
        chain, governor, license, validators, alice, bob):
    assert (KEYS[0].address, anvil_account(BOB_INDEX, chain.chain_id).address) == (alice, bob)
    evidence = alice_double_signs()
    expected = apply_penalty(evidence, license.address, validators[alice])
    duty = bob_duty(chain, governor, license, validators, evidence)

    asyncio.run(duty.step())
    [created] = logged(chain, governor.ProposalCreated)
    assert created.proposal_id == expected.proposal_id == governor.hash_proposal(
        *expected.arrays(), expected.description_hash)
    assert created.proposer == bob

    chain.mine(governor.proposal_snapshot(expected.proposal_id) - created.block_number + 1)
    assert governor.state(expected.proposal_id) == State.ACTIVE
    asyncio.run(duty.step())
    asyncio.run(duty.step())

    [vote] = logged(chain, governor.VoteCast)
    assert (vote.voter, vote.proposal_id, vote.support) == (bob, expected.proposal_id,
                                                            Support.FOR)
    assert [item.function for item in duty.log.drain()] == [
        "apply_penalty", "submit_proposal", "compute_voting_power", "cast_vote"]

    restarted = bob_duty(chain, governor, license, validators, evidence)
    asyncio.run(restarted.step())
    assert len(logged(chain, governor.ProposalCreated)) == 1
    assert len(logged(chain, governor.VoteCast)) == 1


def test_duty__penalty_voted_by_a_quorum__counted_then_queued(
        chain, governor, license, validators, alice, bob, carol, dave):
    evidence = alice_double_signs()
    duty = bob_duty(chain, governor, license, validators, evidence,
                    GovernancePolicy.parse({**POLICY_DECLARED, "execute_when_due": True}))
    asyncio.run(duty.step())
    [created] = logged(chain, governor.ProposalCreated)
    chain.mine(created.vote_start - created.block_number + 1)
    asyncio.run(duty.step())
    for voter in (carol, dave):
        governor.cast_vote(created.proposal_id, Support.FOR, sender=voter)
    chain.mine(created.vote_end - chain.provider.web3.eth.block_number + 1)
    assert governor.state(created.proposal_id) == State.SUCCEEDED

    asyncio.run(duty.step())

    assert governor.state(created.proposal_id) == State.QUEUED
    functions = [item.function for item in duty.log.drain()]
    assert functions[-3:] == ["compute_voting_power", "tally_proposal", "execute_proposal"]
