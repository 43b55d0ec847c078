# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Feed Rounds
@custom:contract-name feed_rounds
@license MIT
@notice The rounds of a price feed and their Chainlink AggregatorV3
        views. Round ids are the reports' own (uint32), strictly
        increasing but not necessarily consecutive; `answeredInRound`
        is the round itself and `startedAt` the time the report's
        observations were made, as in Chainlink OCR2.
        A round takes one storage slot: the answer (int192, bits
        0-191), the observation time (uint32, bits 192-223) and the
        block time it was recorded at (uint32, bits 224-255). The
        recording time is never 0 on a real chain, so an empty slot
        means "no such round".
        This module has no access control: the contract that
        `initializes` it decides who records a round.
"""


# @dev The version of the feed's implementation (AggregatorV3 `version`).
VERSION: constant(uint256) = 1

# @dev Bit layout of a packed round.
_ANSWER_MASK: constant(uint256) = (1 << 192) - 1
_OBSERVED_SHIFT: constant(uint256) = 192
_UPDATED_SHIFT: constant(uint256) = 224
_U32_MASK: constant(uint256) = (1 << 32) - 1

# @dev Reverts of a read of a round without data.
_NO_ROUND: constant(String[32]) = "NodeFeed: no data for round"
_NO_DATA: constant(String[32]) = "NodeFeed: no data present"


# @dev The decimals of an answer and what the feed reports.
_DECIMALS: immutable(uint8)
_DESCRIPTION: immutable(String[64])


# @dev The id of the latest recorded round; 0 before the first one.
latest_round: public(uint32)

# @dev Round id => packed (answer, observed at, updated at).
_rounds: HashMap[uint32, uint256]


@deploy
@payable
def __init__(decimals_: uint8, description_: String[64]):
    """
    @dev Sets the feed's decimals and description (immutable).
    @param decimals_ The decimals of an answer.
    @param description_ What the feed reports, e.g. "BTC / USD".
    """
    _DECIMALS = decimals_
    _DESCRIPTION = description_


@external
@view
def decimals() -> uint8:
    """
    @notice The number of decimals of an answer.
    @return uint8 The decimals.
    """
    return _DECIMALS


@external
@view
def description() -> String[64]:
    """
    @notice What the feed reports, e.g. "BTC / USD".
    @return String The description.
    """
    return _DESCRIPTION


@external
@view
def version() -> uint256:
    """
    @notice The version of the feed's implementation.
    @return uint256 The version.
    """
    return VERSION


@external
@view
def getRoundData(_roundId: uint80) -> (uint80, int256, uint256, uint256, uint80):
    """
    @notice The data of round `_roundId`.
    @dev Reverts with "NodeFeed: no data for round" for a round that was
         never recorded (round ids need not be consecutive).
    @param _roundId The round id.
    @return uint80 The round id.
    @return int256 The answer.
    @return uint256 When the report's observations were made (seconds).
    @return uint256 When the round was recorded on-chain (seconds).
    @return uint80 The round id again (the round it was answered in).
    """
    assert _roundId <= convert(max_value(uint32), uint80), _NO_ROUND
    round_id: uint32 = convert(_roundId, uint32)
    packed: uint256 = self._rounds[round_id]
    assert packed != 0, _NO_ROUND
    return self._round_data(round_id, packed)


@external
@view
def latestRoundData() -> (uint80, int256, uint256, uint256, uint80):
    """
    @notice The data of the latest round.
    @dev Reverts with "NodeFeed: no data present" before the first round,
         rather than answering zeros a careless consumer could take for
         a price.
    @return uint80 The round id.
    @return int256 The answer.
    @return uint256 When the report's observations were made (seconds).
    @return uint256 When the round was recorded on-chain (seconds).
    @return uint80 The round id again (the round it was answered in).
    """
    round_id: uint32 = self.latest_round
    assert round_id != 0, _NO_DATA
    return self._round_data(round_id, self._rounds[round_id])


@internal
def _record(round_id: uint32, answer: int192, observed_at: uint32):
    """
    @dev Records `answer` for `round_id`, observed at `observed_at`, at
         this block's time. `round_id` must be above the latest round.
    """
    assert round_id > self.latest_round, "NodeFeed: stale round"
    answer_bits: uint256 = convert(convert(convert(answer, int256), bytes32), uint256) & _ANSWER_MASK
    self._rounds[round_id] = (
        answer_bits
        | (convert(observed_at, uint256) << _OBSERVED_SHIFT)
        | ((block.timestamp & _U32_MASK) << _UPDATED_SHIFT)
    )
    self.latest_round = round_id


@internal
@pure
def _round_data(round_id: uint32, packed: uint256) -> (uint80, int256, uint256, uint256, uint80):
    """
    @dev Unpacks a round into AggregatorV3's tuple; the answer is
         sign-extended from 192 bits.
    """
    answer: int256 = convert(convert(packed << 64, bytes32), int256) >> 64
    round80: uint80 = convert(round_id, uint80)
    return (
        round80,
        answer,
        (packed >> _OBSERVED_SHIFT) & _U32_MASK,
        packed >> _UPDATED_SHIFT,
        round80,
    )
