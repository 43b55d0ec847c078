"""Calldata of NodeLicense's admin actions (suspend, reinstate, revoke, reassign). Nothing
here talks to the chain: the browser's wallet sends what these functions build."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

LICENSE_ACTIONS = {
    "suspend": ("suspend(uint256,string)", ["uint256", "string"]),
    "reinstate": ("reinstate(uint256)", ["uint256"]),
    "revoke": ("revoke(uint256,string)", ["uint256", "string"]),
    "reassign": ("reassign(uint256,address,string)", ["uint256", "address", "string"]),
}


def license_call(action: str, token_id: int, reason: str = "", new_owner: str = "") -> str:
    """0x-hex calldata of a NodeLicense admin action."""
    signature, types = LICENSE_ACTIONS[action]
    args: list[object] = [token_id]
    if action == "reassign":
        args.append(to_checksum_address(new_owner))
    if action in ("suspend", "revoke", "reassign"):
        if not reason.strip():
            raise ValueError("a reason is required: it is recorded on-chain")
        if len(reason.encode()) > 256:
            raise ValueError("the reason is longer than 256 bytes")
        args.append(reason)
    return "0x" + (function_signature_to_4byte_selector(signature) + encode(types, args)).hex()
