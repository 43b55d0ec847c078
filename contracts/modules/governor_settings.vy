# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Governor Settings With a Checkpointed Quorum Fraction
@custom:contract-name governor_settings
@license GNU Affero General Public License v3.0 only
@notice The tunable parameters of NodeGovernor: voting delay and voting
        period (in blocks), proposal threshold (in votes, i.e. active
        Validator licenses), grace period after a queued proposal's eta
        (in seconds) and the quorum numerator (percent of the live
        Validator licenses at a proposal's snapshot).

        The quorum numerator is checkpointed by block number so that
        changing it never changes the outcome of proposals whose
        snapshot is already past (as OpenZeppelin's
        GovernorVotesQuorumFraction).

        This module has no access control: the contract that
        `initializes` it decides who may call the internal setters
        and exports the getters it wants.
"""


# @dev The denominator of the quorum fraction: the numerator is a percentage.
QUORUM_DENOMINATOR: public(constant(uint256)) = 100


# @dev The upper bound of the checkpoint binary search (2**256 checkpoints).
_SEARCH_STEPS: constant(uint256) = 256


# @dev Blocks between a proposal's creation and its snapshot.
voting_delay: public(uint256)


# @dev Blocks during which a proposal accepts votes (after its snapshot).
voting_period: public(uint256)


# @dev Votes (active Validator licenses) an account needs to propose.
proposal_threshold: public(uint256)


# @dev Seconds after a queued proposal's eta during which it can
# still be executed; after that the proposal is Expired.
grace_period: public(uint256)


# @dev A value that holds from block `from_block` (inclusive) on.
struct Checkpoint:
    from_block: uint256
    value: uint256


# @dev The quorum numerator history, oldest first.
_quorum_checkpoints: HashMap[uint256, Checkpoint]
_quorum_checkpoint_count: uint256


# @dev Emitted when the voting delay changes.
event VotingDelaySet:
    old_voting_delay: uint256
    new_voting_delay: uint256


# @dev Emitted when the voting period changes.
event VotingPeriodSet:
    old_voting_period: uint256
    new_voting_period: uint256


# @dev Emitted when the proposal threshold changes.
event ProposalThresholdSet:
    old_proposal_threshold: uint256
    new_proposal_threshold: uint256


# @dev Emitted when the quorum numerator changes.
event QuorumNumeratorUpdated:
    old_quorum_numerator: uint256
    new_quorum_numerator: uint256


# @dev Emitted when the grace period changes.
event GracePeriodSet:
    old_grace_period: uint256
    new_grace_period: uint256


@deploy
@payable
def __init__(
    voting_delay_: uint256,
    voting_period_: uint256,
    proposal_threshold_: uint256,
    quorum_numerator_: uint256,
    grace_period_: uint256,
):
    """
    @dev Sets the initial parameters (each one emits its event).
    @param voting_delay_ Blocks between proposal and snapshot.
    @param voting_period_ Blocks of voting after the snapshot (> 0).
    @param proposal_threshold_ Votes an account needs to propose.
    @param quorum_numerator_ Quorum in percent of the live (Active or
           Suspended) Validator licenses at the snapshot (<= 100).
    @param grace_period_ Seconds a queued proposal stays executable
           after its eta (> 0).
    """
    self._set_voting_delay(voting_delay_)
    self._set_voting_period(voting_period_)
    self._set_proposal_threshold(proposal_threshold_)
    self._update_quorum_numerator(quorum_numerator_)
    self._set_grace_period(grace_period_)


@external
@view
def quorum_numerator() -> uint256:
    """
    @notice The current quorum numerator (percent).
    @return uint256 The numerator in force from this block on.
    """
    return self._quorum_numerator_at(block.number)


@external
@view
def quorum_numerator_at(block_number: uint256) -> uint256:
    """
    @notice The quorum numerator (percent) in force at `block_number`.
    @param block_number The block to look up.
    @return uint256 The numerator, or 0 for a block before deployment.
    """
    return self._quorum_numerator_at(block_number)


@internal
@view
def _quorum_numerator_at(block_number: uint256) -> uint256:
    """
    @dev The value of the latest checkpoint with `from_block <= block_number`.
         Recent blocks hit the newest checkpoint without a search.
    @param block_number The block to look up.
    @return uint256 The numerator, or 0 for a block before deployment.
    """
    count: uint256 = self._quorum_checkpoint_count
    if count == 0:
        return 0
    latest: Checkpoint = self._quorum_checkpoints[count - 1]
    if latest.from_block <= block_number:
        return latest.value

    # Upper-bound binary search: `high` ends at the first
    # checkpoint that starts after `block_number`.
    low: uint256 = 0
    high: uint256 = count - 1
    for _: uint256 in range(_SEARCH_STEPS):
        if low >= high:
            break
        mid: uint256 = unsafe_div(unsafe_add(low, high), 2)
        if self._quorum_checkpoints[mid].from_block > block_number:
            high = mid
        else:
            low = unsafe_add(mid, 1)
    if high == 0:
        return 0
    return self._quorum_checkpoints[high - 1].value


@internal
def _set_voting_delay(new_voting_delay: uint256):
    """
    @dev Sets the voting delay (blocks) and emits `VotingDelaySet`.
    @param new_voting_delay The new voting delay.
    """
    log VotingDelaySet(old_voting_delay=self.voting_delay, new_voting_delay=new_voting_delay)
    self.voting_delay = new_voting_delay


@internal
def _set_voting_period(new_voting_period: uint256):
    """
    @dev Sets the voting period (blocks, > 0) and emits `VotingPeriodSet`.
    @param new_voting_period The new voting period.
    """
    assert new_voting_period != 0, "NodeGovernor: voting period too low"
    log VotingPeriodSet(old_voting_period=self.voting_period, new_voting_period=new_voting_period)
    self.voting_period = new_voting_period


@internal
def _set_proposal_threshold(new_proposal_threshold: uint256):
    """
    @dev Sets the proposal threshold (votes) and emits `ProposalThresholdSet`.
    @param new_proposal_threshold The new proposal threshold.
    """
    log ProposalThresholdSet(
        old_proposal_threshold=self.proposal_threshold,
        new_proposal_threshold=new_proposal_threshold,
    )
    self.proposal_threshold = new_proposal_threshold


@internal
def _set_grace_period(new_grace_period: uint256):
    """
    @dev Sets the grace period (seconds, > 0) and emits `GracePeriodSet`.
    @param new_grace_period The new grace period.
    """
    assert new_grace_period != 0, "NodeGovernor: grace period too low"
    log GracePeriodSet(old_grace_period=self.grace_period, new_grace_period=new_grace_period)
    self.grace_period = new_grace_period


@internal
def _update_quorum_numerator(new_quorum_numerator: uint256):
    """
    @dev Checkpoints a new quorum numerator (<= 100) from the current
         block on and emits `QuorumNumeratorUpdated`. A second update
         in the same block overwrites the first.
    @param new_quorum_numerator The new numerator (percent).
    """
    assert new_quorum_numerator <= QUORUM_DENOMINATOR, "NodeGovernor: quorum numerator over denominator"
    old: uint256 = self._quorum_numerator_at(block.number)
    count: uint256 = self._quorum_checkpoint_count
    if count != 0 and self._quorum_checkpoints[count - 1].from_block == block.number:
        self._quorum_checkpoints[count - 1].value = new_quorum_numerator
    else:
        self._quorum_checkpoints[count] = Checkpoint(from_block=block.number, value=new_quorum_numerator)
        self._quorum_checkpoint_count = count + 1
    log QuorumNumeratorUpdated(old_quorum_numerator=old, new_quorum_numerator=new_quorum_numerator)
