"""Off-chain side of NodeFeed's `transmit`: the EIP-712 report validators sign, and the
arguments of the transaction that carries their signatures. In the kernel because both the
node runtime (which signs) and the chain side (which transmits and tests) need it.

The typed struct is `Report(uint32 round,int192 answer,uint32 observedAt)` in the domain
(name "NodeFeed", version "1", chainId, the feed's address): a signature is good for one
feed on one chain. The digest is built here with eth_abi and keccak (eth_account's
`encode_typed_data` gives the same bytes, about 20 times slower) and signed with coincurve,
whose signatures are always low-s as NodeFeed requires.

`transmit` carries the whole Active validator list, ascending by numeric address (NodeFeed
checks it against the license registry once per membership and caches it), a bitmap of which
entries signed, and the signers' EIP-2098 compact signatures in list order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from noderr import eip712

DOMAIN_NAME, DOMAIN_VERSION = "NodeFeed", "1"
REPORT_TYPE = "Report(uint32 round,int192 answer,uint32 observedAt)"
REPORT_TYPES = {
    "Report": [
        {"name": "round", "type": "uint32"},
        {"name": "answer", "type": "int192"},
        {"name": "observedAt", "type": "uint32"},
    ]
}
"""The same type for eth_account's `encode_typed_data` and wallets."""

_REPORT_TYPE_HASH = keccak(text=REPORT_TYPE)

CompactSignature = tuple[int, int]
TransmitArgs = tuple[tuple[int, int, int], list[str], int, list[CompactSignature]]


@dataclass(frozen=True)
class Report:
    """One round's agreed answer (in the feed's decimals) and when it was observed."""

    round: int
    answer: int
    observed_at: int

    def as_tuple(self) -> tuple[int, int, int]:
        """The `report` argument of `NodeFeed.transmit`."""
        return (self.round, self.answer, self.observed_at)

    def message(self) -> dict[str, int]:
        """The struct as eth_account's `encode_typed_data` takes it."""
        return {"round": self.round, "answer": self.answer, "observedAt": self.observed_at}


def domain_separator(chain_id: int, feed: str) -> bytes:
    return eip712.domain_separator(DOMAIN_NAME, DOMAIN_VERSION, chain_id, feed)


def report_digest(chain_id: int, feed: str, report: Report) -> bytes:
    """The 32 bytes validators sign: keccak256(0x1901 ‖ domain separator ‖ hashStruct)."""
    struct_hash = keccak(encode(["bytes32", "uint32", "int192", "uint32"],
                                [_REPORT_TYPE_HASH, *report.as_tuple()]))
    return eip712.typed_digest(domain_separator(chain_id, feed), struct_hash)


def sign_report(private_key: bytes, chain_id: int, feed: str, report: Report) -> bytes:
    """A 65-byte r ‖ s ‖ v signature (v 27 or 28, low s) of the report's digest."""
    return eip712.sign_digest(private_key, report_digest(chain_id, feed, report))


def compact_signature(signature: bytes) -> CompactSignature:
    """A 65-byte r ‖ s ‖ v signature as EIP-2098's (r, vs): v - 27 in the top bit of s."""
    r, s, v = eip712.split_signature(signature)
    return r, s | ((v - 27) << 255)


def ascending_validators(validators: Iterable[str]) -> list[str]:
    """The validator list as NodeFeed takes it: checksummed, ascending by numeric address."""
    return sorted((to_checksum_address(address) for address in validators),
                  key=lambda address: int(address, 16))


def transmit_args(report: Report, validators: Iterable[str],
                  signatures: Mapping[str, bytes]) -> TransmitArgs:
    """The arguments of `NodeFeed.transmit`: the report, every Active validator ascending,
    the bitmap of those who signed and their compact signatures in list order.
    `signatures` maps signer -> signature; a signer not in `validators` is a ValueError."""
    listed = ascending_validators(validators)
    index = {int(address, 16): position for position, address in enumerate(listed)}
    by_index = {}
    for signer, signature in signatures.items():
        if int(signer, 16) not in index:
            raise ValueError(f"{signer} signed but is not in the validator list")
        by_index[index[int(signer, 16)]] = compact_signature(signature)
    signed = sum(1 << position for position in by_index)
    return report.as_tuple(), listed, signed, [by_index[key] for key in sorted(by_index)]
