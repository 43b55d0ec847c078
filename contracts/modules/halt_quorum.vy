# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Halt Quorum
@custom:contract-name halt_quorum
@license MIT
@notice How many Guardian signatures an emergency halt needs, as a
        fraction of the Active Guardian licenses that governance sets,
        and the governance address (the timelock) itself, fixed at
        deployment.
        With n Active guardians and the fraction num/den, a halt needs
        more than num/den of them: floor(n * num / den) + 1 signatures,
        at most n (so num/den = 1 means "every guardian") and never
        fewer than 1. The default 1/2 is a strict majority,
        floor(n/2) + 1. Governance may raise the fraction but not lower
        it below 1/2: below a majority, two disjoint groups of guardians
        could each halt on their own.
        Both terms are uint64, so n * num (n is a uint64 count in
        NodeLicense) never overflows and a halt can always be counted.
"""


# @dev The account allowed to resume and to change the quorum (the timelock).
governance: public(immutable(address))

# @dev The fraction of the Active guardians a halt must exceed.
quorum_numerator: public(uint64)
quorum_denominator: public(uint64)


# @notice The quorum fraction changed.
# @param numerator The new numerator.
# @param denominator The new denominator.
event QuorumSet:
    numerator: uint64
    denominator: uint64


@deploy
@payable
def __init__(governance_: address):
    """
    @dev Sets the governance address and the default quorum, a strict
         majority (emits `QuorumSet(1, 2)`).
    @param governance_ The account allowed to resume and to change the
           quorum; not zero.
    """
    assert governance_ != empty(address), "NodeGuard: zero governance"
    governance = governance_
    self._set_quorum(1, 2)


@external
def set_quorum(numerator: uint64, denominator: uint64):
    """
    @notice Sets the fraction of the Active guardians a halt must exceed.
    @dev Caller must be `governance`. 1/2 <= numerator/denominator <= 1.
         Applies to the next halt. Emits `QuorumSet`.
    @param numerator Not above `denominator`
           ("NodeGuard: quorum above all guardians").
    @param denominator Not zero ("NodeGuard: zero denominator"); at most
           twice `numerator` ("NodeGuard: quorum below a majority").
    """
    self._check_governance()
    self._set_quorum(numerator, denominator)


@internal
@view
def _check_governance():
    """
    @dev Reverts unless the caller is `governance`.
    """
    assert msg.sender == governance, "NodeGuard: caller is not governance"


@internal
@view
def _quorum(active: uint256) -> uint256:
    """
    @dev The signatures a halt needs with `active` Active guardians.
    """
    required: uint256 = active * convert(self.quorum_numerator, uint256) // convert(
        self.quorum_denominator, uint256
    ) + 1
    return max(min(required, active), 1)


@internal
def _set_quorum(numerator: uint64, denominator: uint64):
    """
    @dev Stores the fraction and emits `QuorumSet`.
    """
    assert denominator != 0, "NodeGuard: zero denominator"
    assert numerator <= denominator, "NodeGuard: quorum above all guardians"
    assert convert(numerator, uint256) * 2 >= convert(denominator, uint256), (
        "NodeGuard: quorum below a majority"
    )
    self.quorum_numerator = numerator
    self.quorum_denominator = denominator
    log QuorumSet(numerator=numerator, denominator=denominator)
