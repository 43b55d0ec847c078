# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Noderr Node Feed
@custom:contract-name NodeFeed
@license MIT
@notice A price feed written by the Noderr validators and read through
        Chainlink's AggregatorV3Interface, so existing consumers read it
        unchanged. One deployment per feed.
        A round lands by `transmit(report, signatures)`, which anyone
        may call: the authority is in the signatures. A report is the
        EIP-712 typed struct
            Report(uint32 round,int192 answer,uint32 observedAt)
        in the domain (name "NodeFeed", version "1", chainId, this
        feed's address), so a signature is valid for one feed on one
        chain only. It is accepted when
          - its round is above the latest one ("NodeFeed: stale round");
          - its answer lies within the bounds governance sets
            ("NodeFeed: answer out of bounds");
          - it carries at least floor(2n/3)+1 signatures, n being the
            number of Active Validator licenses in NodeLicense now
            ("NodeFeed: quorum not met"), so membership changes need no
            reconfiguration of the feed;
          - every signature is a 65-byte (r, s, v) secp256k1 signature
            with a low s ("NodeFeed: bad signature"), from a holder of
            an Active Validator license at this block ("NodeFeed: signer
            not an active validator");
          - the signers are distinct, which is checked by requiring them
            in ascending address order ("NodeFeed: duplicate signer",
            "NodeFeed: signers not ascending"): no storage, no mapping.
        Revoking or suspending a validator's license removes its
        signature's weight at once, and lowers n with it.
"""


from .interfaces import IAggregatorV3
implements: IAggregatorV3

from .interfaces import INodeLicense


# @dev EIP-712 domain of the reports; EIP-5267's `eip712Domain` is
# exported so signers can read it.
from snekmate.utils import eip712_domain_separator
initializes: eip712_domain_separator

# @dev Round storage and the AggregatorV3 views.
from .modules import feed_rounds
initializes: feed_rounds

# @dev The answer range set by governance.
from .modules import answer_bounds
initializes: answer_bounds


exports: (
    eip712_domain_separator.eip712Domain,
    feed_rounds.decimals,
    feed_rounds.description,
    feed_rounds.version,
    feed_rounds.getRoundData,
    feed_rounds.latestRoundData,
    feed_rounds.latest_round,
    answer_bounds.governance,
    answer_bounds.min_answer,
    answer_bounds.max_answer,
    answer_bounds.set_bounds,
)


# @dev A validators' report of one round.
struct Report:
    round: uint32
    answer: int192
    observed_at: uint32


# @dev A 65-byte secp256k1 signature, as (r, s, v) with v 27 or 28.
struct Signature:
    r: uint256
    s: uint256
    v: uint8


# @dev The most signatures one transmission carries: a quorum of up to
# 94 Active Validator licenses.
MAX_SIGNERS: public(constant(uint256)) = 64

# @dev EIP-712 type hash of `Report`.
REPORT_TYPEHASH: public(constant(bytes32)) = keccak256("Report(uint32 round,int192 answer,uint32 observedAt)")

# @dev NodeLicense's Validator node type.
_VALIDATOR: constant(uint8) = 3

# @dev The largest `s` of a canonical (low-s) signature: secp256k1n / 2.
_MAX_S: constant(uint256) = (
    57_896_044_618_658_097_711_785_492_504_343_953_926_418_782_139_537_452_191_302_581_570_759_080_747_168
)

# @dev EIP-712 domain name and version.
_NAME: constant(String[50]) = "NodeFeed"
_VERSION: constant(String[20]) = "1"


# @dev The license registry: membership and the quorum's base.
license: public(immutable(address))


# @notice A round was recorded.
# @param round The round id.
# @param answer The agreed answer.
# @param observed_at When the observations were made (seconds).
# @param transmitter The account that sent the transaction.
# @param signers The validators whose signatures carried it, ascending.
event Transmitted:
    round: indexed(uint32)
    answer: int192
    observed_at: uint32
    transmitter: indexed(address)
    signers: DynArray[address, MAX_SIGNERS]


@deploy
@payable
def __init__(
    license_: address,
    decimals_: uint8,
    description_: String[64],
    governance_: address,
    min_answer_: int192,
    max_answer_: int192,
):
    """
    @dev Emits `BoundsSet` with the initial bounds.
    @param license_ The NodeLicense registry; not zero.
    @param decimals_ The decimals of an answer.
    @param description_ What the feed reports, e.g. "BTC / USD".
    @param governance_ The account allowed to change the bounds (the
           timelock); not zero.
    @param min_answer_ The smallest answer accepted.
    @param max_answer_ The largest answer accepted; not below `min_answer_`.
    """
    assert license_ != empty(address), "NodeFeed: zero license"
    license = license_
    eip712_domain_separator.__init__(_NAME, _VERSION)
    feed_rounds.__init__(decimals_, description_)
    answer_bounds.__init__(governance_, min_answer_, max_answer_)


@external
def transmit(report: Report, signatures: DynArray[Signature, MAX_SIGNERS]):
    """
    @notice Records `report` as the next round, if a quorum of Active
            validators signed it.
    @dev Anyone may call. The checks, cheapest first: round above the
         latest, answer within bounds, at least floor(2n/3)+1 signatures
         (n = Active Validator licenses now), then per signature: low-s
         and valid, signers strictly ascending, signer an Active
         Validator. Emits `Transmitted`.
    @param report The round, answer and observation time.
    @param signatures The validators' signatures of the report's EIP-712
           digest, ordered by signer address, ascending.
    """
    assert report.round > feed_rounds.latest_round, "NodeFeed: stale round"
    answer_bounds._check_answer(report.answer)
    active: uint256 = staticcall INodeLicense(license).active_count(_VALIDATOR)
    assert len(signatures) > active * 2 // 3, "NodeFeed: quorum not met"
    signers: DynArray[address, MAX_SIGNERS] = self._active_signers(self._digest(report), signatures)
    feed_rounds._record(report.round, report.answer, report.observed_at)
    log Transmitted(
        round=report.round,
        answer=report.answer,
        observed_at=report.observed_at,
        transmitter=msg.sender,
        signers=signers,
    )


@external
@view
def report_digest(report: Report) -> bytes32:
    """
    @notice The EIP-712 digest validators sign for `report` on this feed.
    @param report The round, answer and observation time.
    @return bytes32 The digest.
    """
    return self._digest(report)


@internal
@view
def _digest(report: Report) -> bytes32:
    """
    @dev The EIP-712 digest of `report` in this feed's domain.
    """
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(REPORT_TYPEHASH, report.round, report.answer, report.observed_at))
    )


@internal
@view
def _active_signers(
    digest: bytes32, signatures: DynArray[Signature, MAX_SIGNERS]
) -> DynArray[address, MAX_SIGNERS]:
    """
    @dev The signers of `digest`, checked distinct (strictly ascending)
         and each holding an Active Validator license now.
    """
    signers: DynArray[address, MAX_SIGNERS] = []
    previous: uint256 = 0
    for signature: Signature in signatures:
        signer: address = self._recover(digest, signature)
        current: uint256 = convert(signer, uint256)
        assert current != previous, "NodeFeed: duplicate signer"
        assert current > previous, "NodeFeed: signers not ascending"
        assert staticcall INodeLicense(license).is_active(signer, _VALIDATOR), (
            "NodeFeed: signer not an active validator"
        )
        signers.append(signer)
        previous = current
    return signers


@internal
@pure
def _recover(digest: bytes32, signature: Signature) -> address:
    """
    @dev The signer of `digest`; reverts for a high-s, a v other than 27
         or 28, or a signature that recovers no address.
    """
    assert signature.s <= _MAX_S, "NodeFeed: bad signature"
    assert signature.v == 27 or signature.v == 28, "NodeFeed: bad signature"
    signer: address = ecrecover(digest, signature.v, signature.r, signature.s)
    assert signer != empty(address), "NodeFeed: bad signature"
    return signer
