"""Off-chain side of NodeGuard's `halt`: the EIP-712 halt guardians sign, and the arguments
of the transaction that carries their signatures.

The typed struct is `Halt(string reason,uint256 deadline,uint256 nonce)` in the domain (name
"NodeGuard", version "1", chainId, the guard's address): a signature is good for one guard on
one chain, and for one nonce (the guard's count of accepted halts), so a halt once accepted
cannot be replayed after governance resumes. The digest is built here with eth_abi and keccak
(a string member is hashed, as EIP-712 encodes it) and signed with coincurve, whose
signatures are always low-s as NodeGuard requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak

from noderr import eip712
from noderr.eip712 import Signature

GUARD_CONTRACT = "NodeGuard"
"""The contract's name in the compiled artifacts and the deployment file."""
DOMAIN_NAME, DOMAIN_VERSION = "NodeGuard", "1"
MAX_REASON_BYTES = 128
"""NodeGuard's `String[128]` reason, in UTF-8 bytes."""
HALT_TYPE = "Halt(string reason,uint256 deadline,uint256 nonce)"
HALT_TYPES = {
    "Halt": [
        {"name": "reason", "type": "string"},
        {"name": "deadline", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
    ]
}
"""The same type for eth_account's `encode_typed_data` and wallets."""

_HALT_TYPE_HASH = keccak(text=HALT_TYPE)



@dataclass(frozen=True)
class Halt:
    """A halt as guardians sign it: why, the last block timestamp it is valid at, and the
    guard's nonce it is for (`NodeGuard.halt_nonce()` when signed)."""

    reason: str
    deadline: int
    nonce: int

    def __post_init__(self) -> None:
        if len(self.reason.encode()) > MAX_REASON_BYTES:
            raise ValueError(f"a halt reason is at most {MAX_REASON_BYTES} bytes")

    def message(self) -> dict[str, str | int]:
        """The struct as eth_account's `encode_typed_data` takes it."""
        return {"reason": self.reason, "deadline": self.deadline, "nonce": self.nonce}


def domain_separator(chain_id: int, guard: str) -> bytes:
    return eip712.domain_separator(DOMAIN_NAME, DOMAIN_VERSION, chain_id, guard)


def halt_digest(chain_id: int, guard: str, halt: Halt) -> bytes:
    """The 32 bytes guardians sign: keccak256(0x1901 ‖ domain separator ‖ hashStruct)."""
    struct_hash = keccak(encode(["bytes32", "bytes32", "uint256", "uint256"],
                                [_HALT_TYPE_HASH, keccak(text=halt.reason), halt.deadline,
                                 halt.nonce]))
    return eip712.typed_digest(domain_separator(chain_id, guard), struct_hash)


def sign_halt(private_key: bytes, chain_id: int, guard: str, halt: Halt) -> bytes:
    """A 65-byte r ‖ s ‖ v signature (v 27 or 28, low s) of the halt's digest."""
    return eip712.sign_digest(private_key, halt_digest(chain_id, guard, halt))


def halt_args(halt: Halt, signatures: Mapping[str, bytes]) -> tuple[str, int, list[Signature]]:
    """The arguments of `NodeGuard.halt`: reason, deadline and the signatures ordered by signer
    address, ascending, as the contract requires. `signatures` maps signer -> signature. The
    nonce is not an argument: the guard checks the signatures against its own."""
    return halt.reason, halt.deadline, eip712.by_signer(signatures)
