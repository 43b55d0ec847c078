# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Noderr Node Guard
@custom:contract-name NodeGuard
@license MIT
@notice The network's emergency halt. A quorum of Guardian licenses
        halts it on-chain; only governance (the timelock) resumes it.
        Everything off-chain obeys `is_halted()` through the indexer's
        mirror of `Halted` and `Resumed`.
        A halt lands by `halt(reason, deadline, signatures)`, which
        anyone may call: the authority is in the signatures. The
        guardians sign the EIP-712 typed struct
            Halt(string reason,uint256 deadline,uint256 nonce)
        in the domain (name "NodeGuard", version "1", chainId, this
        guard's address), `nonce` being the guard's count of accepted
        halts so far (`halt_nonce()`). It is accepted when
          - the guard is not halted ("NodeGuard: already halted");
          - block.timestamp <= deadline ("NodeGuard: expired");
          - it carries at least `quorum()` signatures: more than the
            governance-set fraction (a strict majority by default) of
            the Active Guardian licenses in NodeLicense now
            ("NodeGuard: quorum not met");
          - every signature is a 65-byte (r, s, v) secp256k1 signature
            with a low s ("NodeGuard: bad signature"), from a holder of
            an Active Guardian license at this block ("NodeGuard: signer
            not an active guardian");
          - the signers are distinct, checked by requiring them in
            ascending address order ("NodeGuard: duplicate signer",
            "NodeGuard: signers not ascending").
        An accepted halt raises the nonce, so its signatures never halt
        the guard again after a resume: signed over the old nonce, they
        recover to unrelated addresses ("NodeGuard: signer not an active
        guardian").
"""


from .interfaces import INodeLicense


# @dev EIP-712 domain of the halts; EIP-5267's `eip712Domain` is
# exported so signers can read it.
from snekmate.utils import eip712_domain_separator
initializes: eip712_domain_separator

# @dev Governance (the timelock) and the quorum fraction it sets.
from .modules import halt_quorum
initializes: halt_quorum


exports: (
    eip712_domain_separator.eip712Domain,
    halt_quorum.governance,
    halt_quorum.quorum_numerator,
    halt_quorum.quorum_denominator,
    halt_quorum.set_quorum,
)


# @dev A 65-byte secp256k1 signature, as (r, s, v) with v 27 or 28.
struct Signature:
    r: uint256
    s: uint256
    v: uint8


# @dev The most signatures one halt carries: a majority of up to 127
# Active Guardian licenses.
MAX_SIGNERS: public(constant(uint256)) = 64

# @dev The longest reason a halt carries.
MAX_REASON: public(constant(uint256)) = 128

# @dev EIP-712 type hash of `Halt`.
HALT_TYPEHASH: public(constant(bytes32)) = keccak256("Halt(string reason,uint256 deadline,uint256 nonce)")

# @dev NodeLicense's Guardian node type.
_GUARDIAN: constant(uint8) = 2

# @dev The largest `s` of a canonical (low-s) signature: secp256k1n / 2.
_MAX_S: constant(uint256) = (
    57_896_044_618_658_097_711_785_492_504_343_953_926_418_782_139_537_452_191_302_581_570_759_080_747_168
)

# @dev EIP-712 domain name and version.
_NAME: constant(String[50]) = "NodeGuard"
_VERSION: constant(String[20]) = "1"


# @dev The license registry: membership and the quorum's base.
license: public(immutable(address))

# @dev The number of halts accepted so far: the nonce the next halt signs.
# (Not named `nonce`: ape's contract instances already have a `nonce`.)
halt_nonce: public(uint256)

_halted: bool


# @notice The guard halted the network.
# @param nonce The nonce the halt was signed with.
# @param reason Why, as the guardians signed it.
# @param signers The guardians whose signatures carried it, ascending.
event Halted:
    nonce: indexed(uint256)
    reason: String[MAX_REASON]
    signers: DynArray[address, MAX_SIGNERS]


# @notice Governance resumed the network.
# @param nonce The nonce of the halt that ended.
event Resumed:
    nonce: indexed(uint256)


@deploy
@payable
def __init__(license_: address, governance_: address):
    """
    @dev Emits `QuorumSet(1, 2)`: a strict majority.
    @param license_ The NodeLicense registry; not zero.
    @param governance_ The account allowed to resume and to change the
           quorum (the timelock); not zero.
    """
    assert license_ != empty(address), "NodeGuard: zero license"
    license = license_
    eip712_domain_separator.__init__(_NAME, _VERSION)
    halt_quorum.__init__(governance_)


@external
def halt(reason: String[MAX_REASON], deadline: uint256, signatures: DynArray[Signature, MAX_SIGNERS]):
    """
    @notice Halts the network, if a quorum of Active guardians signed
            this halt with the current nonce.
    @dev Anyone may call. The checks, cheapest first: not halted, not
         past `deadline`, at least `quorum()` signatures, then per
         signature: low-s and valid, signers strictly ascending, signer
         an Active Guardian. Raises the nonce and emits `Halted`.
    @param reason Why, as signed; at most 128 bytes.
    @param deadline The last block timestamp the halt is valid at.
    @param signatures The guardians' signatures of the halt's EIP-712
           digest, ordered by signer address, ascending.
    """
    assert not self._halted, "NodeGuard: already halted"
    assert block.timestamp <= deadline, "NodeGuard: expired"
    assert len(signatures) >= self._quorum(), "NodeGuard: quorum not met"
    signed_nonce: uint256 = self.halt_nonce
    signers: DynArray[address, MAX_SIGNERS] = self._active_signers(
        self._digest(reason, deadline, signed_nonce), signatures
    )
    self._halted = True
    self.halt_nonce = signed_nonce + 1
    log Halted(nonce=signed_nonce, reason=reason, signers=signers)


@external
def resume():
    """
    @notice Ends the halt.
    @dev Caller must be `governance` (an executed proposal). Emits
         `Resumed` with the nonce of the halt that ended.
    """
    halt_quorum._check_governance()
    assert self._halted, "NodeGuard: not halted"
    self._halted = False
    log Resumed(nonce=self.halt_nonce - 1)


@external
@view
def is_halted() -> bool:
    """
    @notice True from an accepted halt until governance resumes.
    @return bool Whether the network is halted.
    """
    return self._halted


@external
@view
def quorum() -> uint256:
    """
    @notice The signatures a halt needs now: more than the quorum
            fraction of the Active Guardian licenses, at most all of
            them, at least 1.
    @return uint256 The number of signatures.
    """
    return self._quorum()


@external
@view
def halt_digest(reason: String[MAX_REASON], deadline: uint256, nonce: uint256) -> bytes32:
    """
    @notice The EIP-712 digest guardians sign for a halt on this guard.
    @param reason Why.
    @param deadline The last block timestamp the halt is valid at.
    @param nonce The guard's nonce the halt is for (`halt_nonce()` for the next one).
    @return bytes32 The digest.
    """
    return self._digest(reason, deadline, nonce)


@internal
@view
def _quorum() -> uint256:
    """
    @dev The quorum over the Active Guardian licenses now.
    """
    return halt_quorum._quorum(staticcall INodeLicense(license).active_count(_GUARDIAN))


@internal
@view
def _digest(reason: String[MAX_REASON], deadline: uint256, nonce: uint256) -> bytes32:
    """
    @dev The EIP-712 digest of a halt in this guard's domain; a string
         member is encoded as the keccak256 of its bytes.
    """
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(HALT_TYPEHASH, keccak256(reason), deadline, nonce))
    )


@internal
@view
def _active_signers(
    digest: bytes32, signatures: DynArray[Signature, MAX_SIGNERS]
) -> DynArray[address, MAX_SIGNERS]:
    """
    @dev The signers of `digest`, checked distinct (strictly ascending)
         and each holding an Active Guardian license now.
    """
    signers: DynArray[address, MAX_SIGNERS] = []
    previous: uint256 = 0
    for signature: Signature in signatures:
        signer: address = self._recover(digest, signature)
        current: uint256 = convert(signer, uint256)
        assert current != previous, "NodeGuard: duplicate signer"
        assert current > previous, "NodeGuard: signers not ascending"
        assert staticcall INodeLicense(license).is_active(signer, _GUARDIAN), (
            "NodeGuard: signer not an active guardian"
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
    assert signature.s <= _MAX_S, "NodeGuard: bad signature"
    assert signature.v == 27 or signature.v == 28, "NodeGuard: bad signature"
    signer: address = ecrecover(digest, signature.v, signature.r, signature.s)
    assert signer != empty(address), "NodeGuard: bad signature"
    return signer
