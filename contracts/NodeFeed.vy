# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Noderr Node Feed
@custom:contract-name NodeFeed
@license MIT
@notice A price feed written by the Noderr validators and read through
        Chainlink's AggregatorV3Interface, so existing consumers read it
        unchanged. One deployment per feed.
        A round lands by `transmit(report, validators, signed,
        signatures)`, which anyone may call: the authority is in the
        signatures. A report is the EIP-712 typed struct
            Report(uint32 round,int192 answer,uint32 observedAt)
        in the domain (name "NodeFeed", version "1", chainId, this
        feed's address), so a signature is valid for one feed on one
        chain only. `validators` is the list of every Active Validator
        license holder, ascending by address; `signed` is a bitmap over
        its indices (bit i: validators[i] signed); `signatures` are the
        signers' EIP-2098 compact signatures (r, vs), in index order.
        It is accepted when
          - its round is above the latest one ("NodeFeed: stale round");
          - its answer lies within the bounds governance sets
            ("NodeFeed: answer out of bounds");
          - `validators` is exactly the Active Validator set of
            NodeLicense now ("NodeFeed: validator set mismatch");
          - it carries at least floor(2n/3)+1 signatures, n being the
            length of that list ("NodeFeed: quorum not met"), so
            membership changes need no reconfiguration of the feed;
          - `signed` marks as many entries as there are signatures, and
            none beyond the list ("NodeFeed: signer bitmap mismatch"):
            each entry counts once, so signers are distinct without any
            storage;
          - every signature has a low s and recovers an address ("NodeFeed:
            bad signature"), the address of the entry it stands for
            ("NodeFeed: signer not an active validator").
        Checking the list costs one external call per entry, so it is
        done once per membership: the feed stores the hash of the last
        list it verified together with NodeLicense's
        `validator_set_nonce`, which moves whenever the Active Validator
        set changes. While both match, a transmit reads one slot here and
        the nonce there, and a signer costs its ecrecover, its calldata
        and its list entry. Revoking or suspending a validator's license
        moves the nonce, so its signature loses its weight at once and n
        falls with it.
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


# @dev An EIP-2098 compact secp256k1 signature: r, and s with the
# recovery bit (v - 27) in its top bit.
struct Signature:
    r: uint256
    vs: uint256


# @dev The most signatures one transmission carries.
MAX_SIGNERS: public(constant(uint256)) = 64

# @dev The longest validator list: the most Active validators whose
# quorum, floor(2n/3)+1, fits in MAX_SIGNERS.
MAX_VALIDATORS: public(constant(uint256)) = 95

# @dev EIP-712 type hash of `Report`.
REPORT_TYPEHASH: public(constant(bytes32)) = keccak256("Report(uint32 round,int192 answer,uint32 observedAt)")

# @dev NodeLicense's Validator node type.
_VALIDATOR: constant(uint8) = 3

# @dev The largest `s` of a canonical (low-s) signature: secp256k1n / 2.
_MAX_S: constant(uint256) = (
    57_896_044_618_658_097_711_785_492_504_343_953_926_418_782_139_537_452_191_302_581_570_759_080_747_168
)

# @dev The `s` bits of a compact signature's `vs`.
_S_MASK: constant(uint256) = (1 << 255) - 1

# @dev EIP-712 domain name and version.
_NAME: constant(String[50]) = "NodeFeed"
_VERSION: constant(String[20]) = "1"


# @dev The license registry: membership and the quorum's base.
license: public(immutable(address))

# @dev keccak256(abi_encode(nonce, validators)) of the last validator
# list verified against NodeLicense, at its `validator_set_nonce`.
_verified_set: bytes32


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
def transmit(
    report: Report,
    validators: DynArray[address, MAX_VALIDATORS],
    signed: uint256,
    signatures: DynArray[Signature, MAX_SIGNERS],
):
    """
    @notice Records `report` as the next round, if a quorum of Active
            validators signed it.
    @dev Anyone may call. The checks, cheapest first: round above the
         latest, answer within bounds, `validators` the live Active
         Validator set (from the cache while NodeLicense's nonce has not
         moved), at least floor(2n/3)+1 signatures, `signed` consistent
         with them, then per signature: low-s, valid, and recovering the
         entry it stands for. Emits `Transmitted`.
    @param report The round, answer and observation time.
    @param validators Every Active Validator license holder, ascending
           by address.
    @param signed Bit i set when validators[i] signed.
    @param signatures The signers' compact signatures of the report's
           EIP-712 digest, in the order of their indices.
    """
    assert report.round > feed_rounds.latest_round, "NodeFeed: stale round"
    answer_bounds._check_answer(report.answer)
    self._check_validator_set(validators)
    assert len(signatures) > len(validators) * 2 // 3, "NodeFeed: quorum not met"
    signers: DynArray[address, MAX_SIGNERS] = self._listed_signers(
        self._digest(report), validators, signed, signatures
    )
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
def _check_validator_set(validators: DynArray[address, MAX_VALIDATORS]):
    """
    @dev Reverts unless `validators` is the Active Validator set now,
         ascending. Trusted as is when it hashes, with NodeLicense's
         validator set nonce, to the last list verified; otherwise
         verified entry by entry (strictly ascending, each Active, as
         many as the Active count) and cached.
    """
    nonce: uint256 = staticcall INodeLicense(license).validator_set_nonce()
    key: bytes32 = keccak256(abi_encode(nonce, validators))
    if key == self._verified_set:
        return
    assert len(validators) == staticcall INodeLicense(license).active_count(_VALIDATOR), (
        "NodeFeed: validator set mismatch"
    )
    previous: uint256 = 0
    for validator: address in validators:
        current: uint256 = convert(validator, uint256)
        assert current > previous, "NodeFeed: validator set mismatch"
        assert staticcall INodeLicense(license).is_active(validator, _VALIDATOR), (
            "NodeFeed: validator set mismatch"
        )
        previous = current
    self._verified_set = key


@internal
@pure
def _listed_signers(
    digest: bytes32,
    validators: DynArray[address, MAX_VALIDATORS],
    signed: uint256,
    signatures: DynArray[Signature, MAX_SIGNERS],
) -> DynArray[address, MAX_SIGNERS]:
    """
    @dev The entries of `validators` marked in `signed`, each checked to
         be the signer of `digest` by the next signature in order.
    """
    signers: DynArray[address, MAX_SIGNERS] = []
    remaining: uint256 = signed
    for index: uint256 in range(len(validators), bound=MAX_VALIDATORS):
        if remaining == 0:
            break
        if remaining & 1 == 1:
            assert len(signers) < len(signatures), "NodeFeed: signer bitmap mismatch"
            signer: address = self._recover(digest, signatures[len(signers)])
            assert signer == validators[index], "NodeFeed: signer not an active validator"
            signers.append(signer)
        remaining = remaining >> 1
    assert remaining == 0 and len(signers) == len(signatures), "NodeFeed: signer bitmap mismatch"
    return signers


@internal
@pure
def _recover(digest: bytes32, signature: Signature) -> address:
    """
    @dev The signer of `digest`; reverts for a high s or a signature
         that recovers no address.
    """
    s: uint256 = signature.vs & _S_MASK
    assert s <= _MAX_S, "NodeFeed: bad signature"
    signer: address = ecrecover(digest, unsafe_add(27, signature.vs >> 255), signature.r, s)
    assert signer != empty(address), "NodeFeed: bad signature"
    return signer
