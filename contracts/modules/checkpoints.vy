# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Packed Block-Number Checkpoints
@custom:contract-name checkpoints
@license MIT
@notice A history of `(block number, value)` checkpoints per `uint256`
        key, with an upper lookup by binary search, in the style of
        OpenZeppelin's `Checkpoints.Trace`:
        https://github.com/OpenZeppelin/openzeppelin-contracts/blob/master/contracts/utils/structs/Checkpoints.sol.
        Each checkpoint is packed into one storage slot: the block
        number in the upper 128 bits, the value in the lower 128 bits.
        The module does NOT store the length of a history: the caller
        keeps it (e.g. packed with other per-key counters in one slot)
        and passes it in; `_push` returns the new length. This saves a
        storage write per update. Usage (to avoid any NatSpec parsing
        error, no `@` character is added to the decorators):
        ```vy
        from modules import checkpoints
        initializes: checkpoints
        ...
        external
        def bump(key: uint256):
            self.length[key] = checkpoints._push(key, self.length[key], new_value)
        ```
        Only one checkpoint is kept per block: a second `_push` in the
        same block overwrites the value of the last checkpoint.
"""


# @dev The width of the block number and of the value in a packed checkpoint.
_HALF: constant(uint256) = 128
_VALUE_MASK: constant(uint256) = (1 << 128) - 1


# @dev Binary search iterations: enough for any history length below 2**64.
_MAX_SEARCH_STEPS: constant(uint256) = 64


# @dev Key => index => packed checkpoint `(block << 128) | value`.
_checkpoints: HashMap[uint256, HashMap[uint256, uint256]]


@deploy
@payable
def __init__():
    """
    @dev To omit the opcodes for checking the `msg.value`
         in the creation-time EVM bytecode, the constructor
         is declared as `payable`.
    """
    pass


@internal
def _push(key: uint256, length: uint256, new_value: uint256) -> uint256:
    """
    @dev Records `new_value` for `key` at the current block number.
    @notice If the last checkpoint of `key` is from the current block,
            its value is overwritten; otherwise a new checkpoint is
            appended. `new_value` must fit in 128 bits.
    @param key The 32-byte history key.
    @param length The current number of checkpoints of `key`
           (kept by the caller).
    @param new_value The new value.
    @return uint256 The new number of checkpoints of `key`.
    """
    assert new_value <= _VALUE_MASK, "checkpoints: value too large"
    packed: uint256 = (block.number << _HALF) | new_value
    if length != 0:
        last_index: uint256 = unsafe_sub(length, 1)
        if (self._checkpoints[key][last_index] >> _HALF) == block.number:
            self._checkpoints[key][last_index] = packed
            return length
    self._checkpoints[key][length] = packed
    return unsafe_add(length, 1)


@internal
@view
def _upper_lookup(key: uint256, length: uint256, block_number: uint256) -> uint256:
    """
    @dev Returns the value of the last checkpoint of `key` whose block
         number is lower than or equal to `block_number`, or 0 when
         there is none.
    @notice The latest checkpoint is checked first (the common case of
            a recent lookup costs one storage read); otherwise a binary
            search over the history runs in O(log n).
    @param key The 32-byte history key.
    @param length The current number of checkpoints of `key`.
    @param block_number The block number to look up.
    @return uint256 The value at the end of block `block_number`.
    """
    if length == 0:
        return 0
    latest: uint256 = self._checkpoints[key][unsafe_sub(length, 1)]
    if (latest >> _HALF) <= block_number:
        return latest & _VALUE_MASK

    # Invariant: checkpoints below `low` have a block <= `block_number`,
    # checkpoints at or above `high` have a block > `block_number`.
    low: uint256 = 0
    high: uint256 = unsafe_sub(length, 1)
    for _: uint256 in range(_MAX_SEARCH_STEPS):
        if low >= high:
            break
        mid: uint256 = unsafe_add(low, (high - low) >> 1)
        if (self._checkpoints[key][mid] >> _HALF) > block_number:
            high = mid
        else:
            low = unsafe_add(mid, 1)

    if high == 0:
        return 0
    return self._checkpoints[key][unsafe_sub(high, 1)] & _VALUE_MASK


@internal
@view
def _at(key: uint256, index: uint256) -> (uint256, uint256):
    """
    @dev Returns the checkpoint of `key` at position `index`.
    @notice The caller must check `index` against its length.
    @param key The 32-byte history key.
    @param index The checkpoint position.
    @return uint256 The block number of the checkpoint.
    @return uint256 The value of the checkpoint.
    """
    packed: uint256 = self._checkpoints[key][index]
    return packed >> _HALF, packed & _VALUE_MASK
