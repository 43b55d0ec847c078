# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Answer Bounds
@custom:contract-name answer_bounds
@license MIT
@notice The range a feed's answer must lie in, set by governance: a
        quorum of validators cannot publish a value outside it (a
        circuit breaker against a corrupted majority or a decimals
        mistake). The governance address (the timelock) is fixed at
        deployment.
"""


# @dev The account allowed to change the bounds (the timelock).
governance: public(immutable(address))

# @dev The smallest and the largest answer accepted, inclusive.
min_answer: public(int192)
max_answer: public(int192)


# @notice The bounds changed.
# @param min_answer The new smallest answer accepted.
# @param max_answer The new largest answer accepted.
event BoundsSet:
    min_answer: int192
    max_answer: int192


@deploy
@payable
def __init__(governance_: address, min_answer_: int192, max_answer_: int192):
    """
    @dev Sets the governance address and the initial bounds (emits
         `BoundsSet`).
    @param governance_ The account allowed to change the bounds; not zero.
    @param min_answer_ The smallest answer accepted.
    @param max_answer_ The largest answer accepted; not below `min_answer_`.
    """
    assert governance_ != empty(address), "NodeFeed: zero governance"
    governance = governance_
    self._set_bounds(min_answer_, max_answer_)


@external
def set_bounds(min_answer_: int192, max_answer_: int192):
    """
    @notice Sets the range an answer must lie in (inclusive).
    @dev Caller must be `governance`. Applies to the next transmission;
         recorded rounds are kept. Emits `BoundsSet`.
    @param min_answer_ The smallest answer accepted.
    @param max_answer_ The largest answer accepted; not below `min_answer_`.
    """
    assert msg.sender == governance, "NodeFeed: caller is not governance"
    self._set_bounds(min_answer_, max_answer_)


@internal
@view
def _check_answer(answer: int192):
    """
    @dev Reverts unless `answer` lies within the bounds.
    """
    assert answer >= self.min_answer and answer <= self.max_answer, "NodeFeed: answer out of bounds"


@internal
def _set_bounds(min_answer_: int192, max_answer_: int192):
    """
    @dev Stores the bounds and emits `BoundsSet`.
    """
    assert min_answer_ <= max_answer_, "NodeFeed: min above max"
    self.min_answer = min_answer_
    self.max_answer = max_answer_
    log BoundsSet(min_answer=min_answer_, max_answer=max_answer_)
