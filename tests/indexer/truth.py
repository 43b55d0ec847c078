"""The projections as the chain itself says they should be: web3.py's own log decoding
(eth_getLogs) for the history, contract view calls for the current state. Nothing here
shares code with the indexer."""

from __future__ import annotations

from web3.exceptions import ContractLogicError

from tests.fixtures_chain import Stack

STATUS = {1: "active", 2: "suspended"}
STATE = {2: "canceled", 5: "queued", 7: "executed"}


def _logs(contract, event: str) -> list:
    return list(getattr(contract.events, event).get_logs(from_block=0))


def licenses(stack: Stack) -> dict[int, tuple]:
    """token id → (owner, node type, status, minted block, application id)."""
    nl = stack.contract("NodeLicense")
    truth = {}
    for log in _logs(nl, "LicenseMinted"):
        token = log.args.token_id
        try:
            node_type, status, minted, application = nl.functions.license_of(token).call()
            owner = nl.functions.ownerOf(token).call()
            truth[token] = (owner.lower(), node_type, STATUS[status], minted,
                            "0x" + application.hex())
        except ContractLogicError:  # burned: revoked; the last owner is in the Revoked log
            (revoked,) = [r for r in _logs(nl, "LicenseRevoked") if r.args.token_id == token]
            truth[token] = (revoked.args.owner.lower(), log.args.node_type, "revoked",
                            log.blockNumber, "0x" + log.args.application_id.hex())
    return truth


def role_members(stack: Stack) -> set[tuple]:
    """(contract address, role, account) for every pair a log ever named that hasRole says."""
    members = set()
    for name in ("NodeLicense", "NodeTimelock"):
        contract = stack.contract(name)
        candidates = {(log.args.role, log.args.account) for log in _logs(contract, "RoleGranted")}
        for role, account in candidates:
            if contract.functions.hasRole(role, account).call():
                members.add((contract.address.lower(), "0x" + role.hex(), account.lower()))
    return members


def proposals(stack: Stack) -> dict[int, tuple]:
    """proposal id → (proposer, state, against, for, abstain, snapshot, deadline, eta)."""
    g = stack.contract("NodeGovernor").functions
    truth = {}
    for log in _logs(stack.contract("NodeGovernor"), "ProposalCreated"):
        pid = log.args.proposal_id
        against, for_, abstain = g.proposal_votes(pid).call()
        eta = g.proposal_eta(pid).call()
        truth[pid] = (g.proposal_proposer(pid).call().lower(),
                      STATE.get(g.state(pid).call(), "created"), against, for_, abstain,
                      g.proposal_snapshot(pid).call(), g.proposal_deadline(pid).call(),
                      eta or None)
    return truth


def votes(stack: Stack) -> set[tuple]:
    """(proposal id, voter, token id, support, weight) of each VoteCast, checked by view."""
    governor = stack.contract("NodeGovernor")
    found = set()
    for log in _logs(governor, "VoteCast"):
        a = log.args
        assert governor.functions.token_has_voted(a.proposal_id, a.token_id).call()
        found.add((a.proposal_id, a.voter.lower(), a.token_id, a.support, a.weight))
    return found
