"""Contract calls as the governor takes them: ABI-encoded calldata, the four arrays of a
proposal and its id (OpenZeppelin's: keccak256(abi.encode(targets, values, calldatas,
keccak256(description))), which NodeGovernor's `hash_proposal` computes the same way)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils import is_hex_address, keccak, to_checksum_address

from node.errors import InvalidParameter

MAX_ACTIONS = 8
MAX_CALLDATA = 1024
MAX_DESCRIPTION = 1024
"""NodeGovernor's bounds on a proposal (MAX_ACTIONS, MAX_CALLDATA, MAX_DESCRIPTION)."""


@dataclass(frozen=True)
class Function:
    """One contract function by its signature, e.g. `suspend(uint256,string)`."""

    signature: str

    @cached_property
    def types(self) -> list[str]:
        inner = self.signature[self.signature.index("(") + 1:-1]
        return inner.split(",") if inner else []

    @cached_property
    def selector(self) -> bytes:
        return keccak(text=self.signature)[:4]

    def calldata(self, *args: Any) -> bytes:
        return self.selector + encode(self.types, list(args))

    def arguments(self, calldata: bytes) -> tuple[Any, ...] | None:
        """The decoded arguments when `calldata` calls this function, else None."""
        if calldata[:4] != self.selector:
            return None
        try:
            return tuple(decode(self.types, calldata[4:]))
        except DecodingError:
            return None


SUSPEND = Function("suspend(uint256,string)")
MINT = Function("mint(address,uint8,bytes32)")
PROPOSE = Function("propose(address[],uint256[],bytes[],string)")
CAST_VOTE_WITH_REASON = Function("cast_vote_with_reason(uint256,uint8,string)")
QUEUE = Function("queue(address[],uint256[],bytes[],bytes32)")
EXECUTE = Function("execute(address[],uint256[],bytes[],bytes32)")


def address(name: str, value: str) -> str:
    """`value` checksummed; InvalidParameter when it is not an address."""
    if not (isinstance(value, str) and is_hex_address(value)):
        raise InvalidParameter(f"{name} must be a 0x-prefixed 20-byte address, got {value!r:.60}")
    return to_checksum_address(value)


@dataclass(frozen=True)
class Transaction:
    """A call to send: its target and calldata."""

    to: str
    data: bytes


@dataclass(frozen=True)
class ProposalCall:
    """A governor proposal: the calls the timelock will make and the description."""

    targets: tuple[str, ...]
    values: tuple[int, ...]
    calldatas: tuple[bytes, ...]
    description: str

    @classmethod
    def of(cls, targets: Sequence[str], values: Sequence[int], calldatas: Sequence[bytes],
           description: str) -> ProposalCall:
        """A proposal within the governor's bounds; InvalidParameter otherwise (the governor
        would revert)."""
        count = len(targets)
        if not 1 <= count <= MAX_ACTIONS:
            raise InvalidParameter(f"a proposal has 1 to {MAX_ACTIONS} actions, not {count}")
        if len(values) != count or len(calldatas) != count:
            raise InvalidParameter("targets, values and calldatas differ in length")
        if any(not isinstance(value, int) or value < 0 for value in values):
            raise InvalidParameter("values are non-negative integers (wei)")
        if any(len(calldata) > MAX_CALLDATA for calldata in calldatas):
            raise InvalidParameter(f"a calldata is at most {MAX_CALLDATA} bytes")
        if not description or len(description) > MAX_DESCRIPTION:
            raise InvalidParameter(f"the description has 1 to {MAX_DESCRIPTION} characters")
        return cls(tuple(address("target", target) for target in targets), tuple(values),
                   tuple(bytes(calldata) for calldata in calldatas), description)

    @property
    def description_hash(self) -> bytes:
        return keccak(text=self.description)

    @property
    def proposal_id(self) -> int:
        return int.from_bytes(keccak(encode(
            ["address[]", "uint256[]", "bytes[]", "bytes32"],
            [list(self.targets), list(self.values), list(self.calldatas),
             self.description_hash])), "big")

    def arrays(self) -> tuple[list[str], list[int], list[bytes]]:
        return list(self.targets), list(self.values), list(self.calldatas)
