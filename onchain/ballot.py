"""Off-chain side of NodeGovernor's EIP-712 `cast_vote_by_sig`: the Ballot a voter signs."""

from __future__ import annotations

from eth_account.messages import SignableMessage, encode_typed_data

BALLOT_TYPES = {
    "Ballot": [
        {"name": "proposalId", "type": "uint256"},
        {"name": "support", "type": "uint8"},
        {"name": "voter", "type": "address"},
        {"name": "nonce", "type": "uint256"},
    ]
}


def ballot_message(chain_id: int, governor: str, proposal_id: int, support: int, voter: str,
                   nonce: int, name: str = "NodeGovernor", version: str = "1") -> SignableMessage:
    """The EIP-712 Ballot for `voter`'s vote `support` (0 against, 1 for, 2 abstain)."""
    return encode_typed_data(
        domain_data={"name": name, "version": version, "chainId": chain_id,
                     "verifyingContract": governor},
        message_types=BALLOT_TYPES,
        message_data={"proposalId": proposal_id, "support": support, "voter": voter,
                      "nonce": nonce},
    )
