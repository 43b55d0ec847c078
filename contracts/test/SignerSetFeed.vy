# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title OCR2-style feed: the gas baseline of NodeFeed
@notice Test-only. NodeFeed's `transmit` (same EIP-712 digest, same
        EIP-2098 compact signatures, same round storage and event) with
        membership checked as Chainlink OCR2Aggregator checks it: the
        signatures alone in calldata, each recovered signer looked up in
        a signer mapping fixed at deployment, distinct by ascending
        order. NodeFeed instead takes the whole Active validator list
        (verified against NodeLicense once per membership, then cached)
        and a bitmap of its signers. benchmarks/feed_gas.py measures both
        in one run, so the difference of their per-signer slopes is the
        price of following a live license registry rather than a fixed
        set. Never deployed outside benchmarks.
"""

from snekmate.utils import eip712_domain_separator
initializes: eip712_domain_separator

from ..modules import feed_rounds
initializes: feed_rounds


struct Report:
    round: uint32
    answer: int192
    observed_at: uint32


struct Signature:
    r: uint256
    vs: uint256


MAX_SIGNERS: constant(uint256) = 64
REPORT_TYPEHASH: constant(bytes32) = keccak256("Report(uint32 round,int192 answer,uint32 observedAt)")
_MAX_S: constant(uint256) = (
    57_896_044_618_658_097_711_785_492_504_343_953_926_418_782_139_537_452_191_302_581_570_759_080_747_168
)
_S_MASK: constant(uint256) = (1 << 255) - 1

_signers: HashMap[address, bool]
_quorum: uint256


event Transmitted:
    round: indexed(uint32)
    answer: int192
    observed_at: uint32
    transmitter: indexed(address)
    signers: DynArray[address, MAX_SIGNERS]


@deploy
def __init__(signers_: DynArray[address, MAX_SIGNERS]):
    """
    @dev Fixes the signer set and its quorum floor(2n/3)+1; the domain
         is NodeFeed's, so the same signatures verify here.
    @param signers_ The signer set.
    """
    eip712_domain_separator.__init__("NodeFeed", "1")
    feed_rounds.__init__(8, "baseline")
    for signer: address in signers_:
        self._signers[signer] = True
    self._quorum = len(signers_) * 2 // 3 + 1


@external
def transmit(report: Report, signatures: DynArray[Signature, MAX_SIGNERS]):
    """
    @notice Records `report` if a quorum of the fixed signer set signed it.
    @param report The round, answer and observation time.
    @param signatures The compact signatures, ordered by signer address, ascending.
    """
    assert len(signatures) >= self._quorum, "baseline: quorum not met"
    digest: bytes32 = eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(REPORT_TYPEHASH, report.round, report.answer, report.observed_at))
    )
    signers: DynArray[address, MAX_SIGNERS] = []
    previous: uint256 = 0
    for signature: Signature in signatures:
        s: uint256 = signature.vs & _S_MASK
        assert s <= _MAX_S, "baseline: bad signature"
        signer: address = ecrecover(digest, unsafe_add(27, signature.vs >> 255), signature.r, s)
        current: uint256 = convert(signer, uint256)
        assert current > previous, "baseline: signers not ascending"
        assert self._signers[signer], "baseline: unknown signer"
        signers.append(signer)
        previous = current
    feed_rounds._record(report.round, report.answer, report.observed_at)
    log Transmitted(
        round=report.round,
        answer=report.answer,
        observed_at=report.observed_at,
        transmitter=msg.sender,
        signers=signers,
    )
