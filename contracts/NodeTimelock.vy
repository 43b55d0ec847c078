# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Noderr Timelock
@custom:contract-name NodeTimelock
@license GNU Affero General Public License v3.0 only
@notice The timelock that holds every admin power of the Noderr network
        (`DEFAULT_ADMIN_ROLE` on NodeLicense). It is snekmate's
        `timelock_controller` composed as a deployable contract: the
        governor (NodeGovernor) is its proposer and canceller, operations
        wait at least `get_minimum_delay` seconds, and the timelock
        administers itself.

        One change: `schedule_batch` and `execute_batch` take at most
        `MAX_BATCH_SIZE` (8, NodeGovernor's `MAX_ACTIONS`) calls instead
        of snekmate's 255. Vyper sizes memory by an array's bound, not its
        length, and three copies of a `DynArray[Bytes[1_024], 255]` cost
        about 1.5M gas of memory expansion whatever the batch size; with
        a bound of 8 a batch costs a fixed few thousand gas plus a
        per-call increment. Same selectors, roles, delay, predecessor,
        salt and events as snekmate's; the operation ids match
        `hash_operation_batch`.

        Deployment (see tests/contracts/governance_setup.py):
          1. deploy NodeTimelock(min_delay, [], [], deployer) so the
             deployer can wire roles once,
          2. deploy NodeGovernor(license, timelock, ...),
          3. grant PROPOSER_ROLE, CANCELLER_ROLE and EXECUTOR_ROLE to the
             governor, then renounce the deployer's DEFAULT_ADMIN_ROLE.
"""


# @dev We import and implement the `IERC165` interface,
# which is a built-in interface of the Vyper compiler.
from ethereum.ercs import IERC165
implements: IERC165


# @dev The interfaces that `timelock_controller` implements;
# declaring them here lets the compiler check that the
# exported surface is complete.
from snekmate.auth.interfaces import IAccessControl
implements: IAccessControl


from snekmate.tokens.interfaces import IERC721Receiver
implements: IERC721Receiver


from snekmate.tokens.interfaces import IERC1155Receiver
implements: IERC1155Receiver


# @dev `access_control` holds the role storage that the
# timelock's proposer, executor and canceller checks use.
from snekmate.auth import access_control
initializes: access_control


# @dev The timelock logic itself, wired to our `access_control`.
from snekmate.governance import timelock_controller
initializes: timelock_controller[access_control := access_control]


# @dev Every `external` function of `timelock_controller`
# (including the `access_control` functions it re-exports)
# except the two batch functions, defined below with a bound of 8.
exports: (
    timelock_controller.__default__,
    timelock_controller.supportsInterface,
    timelock_controller.is_operation,
    timelock_controller.is_operation_pending,
    timelock_controller.is_operation_ready,
    timelock_controller.is_operation_done,
    timelock_controller.get_operation_state,
    timelock_controller.hash_operation,
    timelock_controller.hash_operation_batch,
    timelock_controller.schedule,
    timelock_controller.cancel,
    timelock_controller.execute,
    timelock_controller.update_delay,
    timelock_controller.onERC721Received,
    timelock_controller.onERC1155Received,
    timelock_controller.onERC1155BatchReceived,
    timelock_controller.get_timestamp,
    timelock_controller.get_minimum_delay,
    timelock_controller.PROPOSER_ROLE,
    timelock_controller.EXECUTOR_ROLE,
    timelock_controller.CANCELLER_ROLE,
    timelock_controller.IERC721_TOKENRECEIVER_SELECTOR,
    timelock_controller.IERC1155_TOKENRECEIVER_SINGLE_SELECTOR,
    timelock_controller.IERC1155_TOKENRECEIVER_BATCH_SELECTOR,
    timelock_controller.DEFAULT_ADMIN_ROLE,
    timelock_controller.hasRole,
    timelock_controller.getRoleAdmin,
    timelock_controller.grantRole,
    timelock_controller.revokeRole,
    timelock_controller.renounceRole,
    timelock_controller.set_role_admin,
)


# @dev The most calls in one batch operation; NodeGovernor's `MAX_ACTIONS`.
MAX_BATCH_SIZE: public(constant(uint256)) = 8


@deploy
@payable
def __init__(
    minimum_delay_: uint256,
    proposers_: DynArray[address, timelock_controller._DYNARRAY_BOUND],
    executors_: DynArray[address, timelock_controller._DYNARRAY_BOUND],
    admin_: address,
):
    """
    @dev Passes every argument through to `timelock_controller`.
         `access_control.__init__` grants `DEFAULT_ADMIN_ROLE` to
         the deployer and `timelock_controller.__init__` takes it
         back, so the deployer keeps admin power only when it
         passes itself as `admin_`.
    @notice Declared `payable` to omit the `msg.value` check
            from the creation bytecode.
    @param minimum_delay_ The minimum delay in seconds between
           scheduling and executing an operation.
    @param proposers_ The accounts granted `PROPOSER_ROLE` and
           `CANCELLER_ROLE` (at most 255).
    @param executors_ The accounts granted `EXECUTOR_ROLE`
           (at most 255); the zero address opens execution to anyone.
    @param admin_ The optional account granted `DEFAULT_ADMIN_ROLE`
           for the initial wiring (the zero address for none); it
           should renounce the role once wiring is done.
    """
    access_control.__init__()
    timelock_controller.__init__(minimum_delay_, proposers_, executors_, admin_)


@external
def schedule_batch(
    targets: DynArray[address, MAX_BATCH_SIZE],
    amounts: DynArray[uint256, MAX_BATCH_SIZE],
    payloads: DynArray[Bytes[1_024], MAX_BATCH_SIZE],
    predecessor: bytes32,
    salt: bytes32,
    delay: uint256,
):
    """
    @notice Schedules an operation of up to 8 calls, executed together.
    @dev snekmate's `schedule_batch` with a bound of `MAX_BATCH_SIZE`:
         caller must hold `PROPOSER_ROLE`, `delay` must be at least the
         minimum delay and the operation must not exist yet. Emits one
         `CallScheduled` per call and `CallSalt` if the salt is non-zero.
    @param targets The called contracts.
    @param amounts The wei sent with each call.
    @param payloads The ABI-encoded calls (at most 1,024 bytes each).
    @param predecessor The operation that must be done first (or empty).
    @param salt The salt of the operation.
    @param delay Seconds before the operation becomes ready.
    """
    access_control._check_role(timelock_controller.PROPOSER_ROLE, msg.sender)
    count: uint256 = len(targets)
    assert count == len(amounts) and count == len(payloads), "timelock_controller: length mismatch"
    # snekmate's `_hash_operation_batch` (ABI encoding ignores the bounds).
    id: bytes32 = keccak256(abi_encode(targets, amounts, payloads, predecessor, salt))
    timelock_controller._schedule(id, delay)
    for index: uint256 in range(count, bound=MAX_BATCH_SIZE):
        log timelock_controller.CallScheduled(
            id=id,
            index=index,
            target=targets[index],
            amount=amounts[index],
            payload=payloads[index],
            predecessor=predecessor,
            delay=delay,
        )
    if salt != empty(bytes32):
        log timelock_controller.CallSalt(id=id, salt=salt)


@external
@payable
def execute_batch(
    targets: DynArray[address, MAX_BATCH_SIZE],
    amounts: DynArray[uint256, MAX_BATCH_SIZE],
    payloads: DynArray[Bytes[1_024], MAX_BATCH_SIZE],
    predecessor: bytes32,
    salt: bytes32,
):
    """
    @notice Executes a ready operation of up to 8 calls, in order; any
            failing call reverts them all.
    @dev snekmate's `execute_batch` with a bound of `MAX_BATCH_SIZE`:
         caller must hold `EXECUTOR_ROLE` (or the role is open), the
         operation must be ready and its predecessor done. Emits one
         `CallExecuted` per call.
    @param targets The called contracts.
    @param amounts The wei sent with each call.
    @param payloads The ABI-encoded calls.
    @param predecessor The operation that must be done first (or empty).
    @param salt The salt of the operation.
    @custom:security A call may reenter; `_after_call` checks that the
                     operation is still ready, as in snekmate.
    """
    timelock_controller._only_role_or_open_role(timelock_controller.EXECUTOR_ROLE)
    count: uint256 = len(targets)
    assert count == len(amounts) and count == len(payloads), "timelock_controller: length mismatch"
    # snekmate's `_hash_operation_batch` (ABI encoding ignores the bounds).
    id: bytes32 = keccak256(abi_encode(targets, amounts, payloads, predecessor, salt))
    timelock_controller._before_call(id, predecessor)
    for index: uint256 in range(count, bound=MAX_BATCH_SIZE):
        timelock_controller._execute(targets[index], amounts[index], payloads[index])
        log timelock_controller.CallExecuted(
            id=id, index=index, target=targets[index], amount=amounts[index], payload=payloads[index]
        )
    timelock_controller._after_call(id)

