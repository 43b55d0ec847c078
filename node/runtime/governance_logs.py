"""The events the governance duty replays, read from the chain by eth_getLogs and decoded with
the events' signatures: NodeLicense's license events (compute_voting_power's input) and
NodeGovernor's VoteCast (tally_proposal's). Read from the node's own RPC rather than the
backend's mirror, which exposes proposals' totals but not single votes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from node.validator.governance import CastVote, Support
from node.validator.stake import LicenseEvent
from noderr.domain import NodeType


@dataclass(frozen=True)
class Event:
    """One event by its signature, with the types of its data (non-indexed) fields."""

    kind: str
    signature: str
    data: tuple[str, ...]

    @property
    def topic(self) -> str:
        return "0x" + keccak(text=self.signature).hex()


MINTED = Event("minted", "LicenseMinted(uint256,address,address,uint8,bytes32)",
               ("uint8", "bytes32"))
SUSPENDED = Event("suspended", "LicenseSuspended(uint256,address,address,string)", ("string",))
REINSTATED = Event("reinstated", "LicenseReinstated(uint256,address,address)", ())
REVOKED = Event("revoked", "LicenseRevoked(uint256,address,address,uint8,string)",
                ("uint8", "string"))
REASSIGNED = Event("reassigned", "LicenseReassigned(uint256,address,address,address,string)",
                   ("address", "string"))
LICENSE_EVENTS = {event.topic: event for event in (MINTED, SUSPENDED, REINSTATED, REVOKED,
                                                   REASSIGNED)}
VOTE_CAST = Event("vote", "VoteCast(address,uint256,uint256,uint8,uint256,string)",
                  ("uint256", "uint8", "uint256", "string"))


def _word(topic: str) -> int:
    return int(topic, 16)


def _address(topic: str) -> str:
    return to_checksum_address("0x" + topic[-40:])


def _data(event: Event, log: dict[str, Any]) -> tuple[Any, ...]:
    return decode(list(event.data), bytes.fromhex(log["data"].removeprefix("0x")))


def license_event(log: dict[str, Any]) -> LicenseEvent:
    """A NodeLicense log as compute_voting_power takes it."""
    event = LICENSE_EVENTS[log["topics"][0]]
    topics, data = log["topics"], _data(event, log)
    owner = node_type = None
    if event is MINTED:
        owner, node_type = _address(topics[2]), NodeType(data[0])
    elif event is REASSIGNED:
        owner = to_checksum_address(data[0])
    return LicenseEvent(event.kind, _word(topics[1]), int(log["blockNumber"], 16),
                        int(log["logIndex"], 16), owner, node_type)


def vote_cast(log: dict[str, Any]) -> CastVote:
    """A VoteCast log as tally_proposal takes it."""
    token_id, support, weight, _reason = _data(VOTE_CAST, log)
    return CastVote(_address(log["topics"][1]), token_id, Support(support), weight)


def license_filter(license_address: str, from_block: int) -> dict[str, Any]:
    return {"address": license_address, "fromBlock": hex(from_block), "toBlock": "latest",
            "topics": [list(LICENSE_EVENTS)]}


def votes_filter(governor: str, proposal_id: int, from_block: int) -> dict[str, Any]:
    return {"address": governor, "fromBlock": hex(from_block), "toBlock": "latest",
            "topics": [VOTE_CAST.topic, None, "0x" + proposal_id.to_bytes(32, "big").hex()]}
