"""EIP-712 signing shared by the reports contracts verify (NodeFeed's reports, NodeGuard's
halts): the domain separator, the digest, a low-s recoverable signature and the `(r, s, v)`
struct the contracts take, signatures ordered by signer as they require."""

from __future__ import annotations

from collections.abc import Mapping

from coincurve import PrivateKey
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

Signature = tuple[int, int, int]
DOMAIN_TYPE_HASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


def domain_separator(name: str, version: str, chain_id: int, verifying_contract: str) -> bytes:
    return keccak(encode(
        ["bytes32", "bytes32", "bytes32", "uint256", "address"],
        [DOMAIN_TYPE_HASH, keccak(text=name), keccak(text=version), chain_id,
         to_checksum_address(verifying_contract)]))


def typed_digest(domain: bytes, struct_hash: bytes) -> bytes:
    """keccak256(0x1901 ‖ domain separator ‖ hashStruct): the 32 bytes that are signed."""
    return keccak(b"\x19\x01" + domain + struct_hash)


def sign_digest(private_key: bytes, digest: bytes) -> bytes:
    """A 65-byte r ‖ s ‖ v signature (v 27 or 28; coincurve signs with low s)."""
    signature = PrivateKey(private_key).sign_recoverable(digest, hasher=None)
    return signature[:64] + bytes([signature[64] + 27])


def split_signature(signature: bytes) -> Signature:
    """A 65-byte signature as the contracts' `Signature` struct (r, s, v)."""
    if len(signature) != 65:
        raise ValueError(f"a signature is 65 bytes, got {len(signature)}")
    return (int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big"),
            signature[64])


def by_signer(signatures: Mapping[str, bytes]) -> list[Signature]:
    """The signatures (signer -> signature) as structs ordered by signer address, ascending,
    as the contracts require (distinctness is checked that way, without a mapping)."""
    ordered = sorted(signatures.items(), key=lambda item: int(item[0], 16))
    return [split_signature(signature) for _, signature in ordered]
