"""What NodeFeed answers a transmit that carries a revoked validator's signature: the one place
both the n = 7 test (tests/node/validators7) and benchmarks/consensus_chaos.py ask it."""

from __future__ import annotations

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from node.runtime.keys import anvil_account
from node.runtime.validator import quorum
from noderr.feed_report import Report, compact_signature, sign_report, transmit_args

OUTSIDER_REASON = "NodeFeed: signer not an active validator"
LISTED_REASON = "NodeFeed: validator set mismatch"


def revoked_signature_reverts(w3: Web3, feed: Contract, remaining: dict[int, str],
                              revoked: tuple[int, str]) -> dict[str, str]:
    """A report past the feed's latest round signed by a quorum of the `remaining` validators
    (anvil account number → address) with the `revoked` one's (number, address) signature in
    the last signer's place; then with it kept in the validator list. What each transmit
    reverts with ("" if it would pass)."""
    chain_id = w3.eth.chain_id
    latest = feed.functions.latestRoundData().call()
    report = Report(latest[0] + 1_000, latest[1], latest[3])
    revoked_number, revoked_address = revoked
    signature = {number: sign_report(anvil_account(number, chain_id).private_key, chain_id,
                                     feed.address, report)
                 for number in [*remaining, revoked_number]}
    members = list(remaining.values())
    signers = sorted(remaining)[:quorum(len(remaining))]
    report_args, listed, signed, signatures = transmit_args(
        report, members, {remaining[number]: signature[number] for number in signers})
    outsider = (report_args, listed, signed,
                [*signatures[:-1], compact_signature(signature[revoked_number])])
    kept_signers = {remaining[number]: signature[number] for number in signers[:-1]}
    kept = transmit_args(report, [*members, revoked_address],
                         {**kept_signers, revoked_address: signature[revoked_number]})
    return {"in another's entry": reverted(feed, outsider, w3.eth.accounts[0]),
            "kept in the list": reverted(feed, kept, w3.eth.accounts[0])}


def reverted(feed: Contract, args: tuple, sender: str) -> str:
    """The reason `transmit(*args)` reverts with, "" if it would pass."""
    try:
        feed.functions.transmit(*args).call({"from": sender})
    except ContractLogicError as error:
        return str(error.message or error)
    return ""
