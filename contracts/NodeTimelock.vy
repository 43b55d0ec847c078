# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Noderr Timelock
@custom:contract-name NodeTimelock
@license GNU Affero General Public License v3.0 only
@notice The timelock that holds every admin power of the Noderr network
        (`DEFAULT_ADMIN_ROLE` on NodeLicense). It is snekmate's
        `timelock_controller` composed as a deployable contract and adds
        nothing to it: the governor (NodeGovernor) is its proposer and
        canceller, operations wait at least `get_minimum_delay` seconds,
        and the timelock administers itself.

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
# becomes part of this contract's ABI.
exports: timelock_controller.__interface__


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
