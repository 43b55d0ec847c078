# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Noderr Validator Governor
@custom:contract-name NodeGovernor
@license GNU Affero General Public License v3.0 only
@notice On-chain governance of the Noderr network by its validators,
        at the level of OpenZeppelin's Governor + GovernorTimelockControl:

          - one Active Validator license (NodeLicense, node type 3) is
            one vote;
          - who votes, and with which license, is fixed at the
            proposal's snapshot block: an account votes with the
            Validator license it held, Active, at the end of that block
            (NodeLicense's checkpointed `validator_license_at`).
            Nothing that happens to a license afterwards (suspension,
            reinstatement, revocation, reassignment) adds or removes a
            vote: a license minted, reinstated or received after the
            snapshot does not vote on it, one suspended, revoked or
            reassigned away after it still does, by its holder at the
            snapshot;
          - a license votes at most once per proposal (votes are
            recorded per token id and per account);
          - quorum = ceil(quorum numerator / 100 * live (Active or
            Suspended) Validator licenses at the snapshot), counting
            For + Abstain, so suspending validators before a snapshot
            does not lower the quorum; a proposal succeeds when the
            quorum is reached and For > Against;
          - successful proposals are queued in, and executed through, a
            snekmate TimelockController (NodeTimelock) that holds the
            network's admin roles; a queued proposal that is not executed
            within `grace_period` seconds after its eta expires.

        Proposal states (uint8, OpenZeppelin order): Pending 0, Active 1,
        Canceled 2, Defeated 3, Succeeded 4, Queued 5, Expired 6,
        Executed 7. A proposal is Pending up to and including its
        snapshot block and Active up to and including its deadline block.

        Settings can only be changed by governance itself, i.e. by a
        proposal executed through the timelock.
"""


# @dev The NodeLicense read interface and the part of the
# timelock this contract calls.
from .interfaces import INodeLicense
from .interfaces import ITimelockController


# @dev EIP-712 signatures for `cast_vote_by_sig`; EIP-5267's
# `eip712Domain` is exported so wallets can read the domain.
from snekmate.utils import eip712_domain_separator
initializes: eip712_domain_separator


# @dev ECDSA and EIP-1271 verification (stateless).
from snekmate.utils import signature_checker


# @dev Voting delay/period, threshold, grace period and the
# checkpointed quorum numerator.
from .modules import governor_settings
initializes: governor_settings


# @dev One-license-one-vote tally.
from .modules import governor_counting
initializes: governor_counting


exports: (
    eip712_domain_separator.eip712Domain,
    governor_settings.QUORUM_DENOMINATOR,
    governor_settings.voting_delay,
    governor_settings.voting_period,
    governor_settings.proposal_threshold,
    governor_settings.grace_period,
    governor_settings.quorum_numerator,
    governor_settings.quorum_numerator_at,
    governor_counting.VOTE_AGAINST,
    governor_counting.VOTE_FOR,
    governor_counting.VOTE_ABSTAIN,
    governor_counting.COUNTING_MODE,
    governor_counting.proposal_votes,
    governor_counting.has_voted,
    governor_counting.token_has_voted,
)


# @dev Upper bounds of a proposal.
MAX_ACTIONS: public(constant(uint256)) = 8
MAX_CALLDATA: public(constant(uint256)) = 1_024
MAX_DESCRIPTION: public(constant(uint256)) = 1_024
MAX_REASON: public(constant(uint256)) = 256


# @dev The node type code of NodeLicense's Validator licenses (ABI).
VALIDATOR: public(constant(uint8)) = 3


# @dev Proposal states, OpenZeppelin's `ProposalState` order.
STATE_PENDING: public(constant(uint8)) = 0
STATE_ACTIVE: public(constant(uint8)) = 1
STATE_CANCELED: public(constant(uint8)) = 2
STATE_DEFEATED: public(constant(uint8)) = 3
STATE_SUCCEEDED: public(constant(uint8)) = 4
STATE_QUEUED: public(constant(uint8)) = 5
STATE_EXPIRED: public(constant(uint8)) = 6
STATE_EXECUTED: public(constant(uint8)) = 7


# @dev The EIP-712 type hash of a vote by signature.
BALLOT_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Ballot(uint256 proposalId,uint8 support,address voter,uint256 nonce)"
)


# @dev EIP-6372 clock: block numbers.
CLOCK_MODE: public(constant(String[40])) = "mode=blocknumber&from=default"


_NAME: constant(String[50]) = "NodeGovernor"
_VERSION: constant(String[20]) = "1"


# @dev The license contract whose Validator licenses vote.
node_license: public(immutable(INodeLicense))


# @dev The timelock that queues and executes proposals and whose
# calls are the only ones allowed to change the settings.
timelock: public(immutable(ITimelockController))


struct ProposalCore:
    proposer: address
    vote_start: uint256
    vote_end: uint256
    eta: uint256
    executed: bool
    canceled: bool


_proposals: HashMap[uint256, ProposalCore]
_timelock_ids: HashMap[uint256, bytes32]
_nonces: HashMap[address, uint256]


# @dev Emitted when a proposal is created. `vote_start` is the
# snapshot block, `vote_end` the last block of voting.
event ProposalCreated:
    proposal_id: indexed(uint256)
    proposer: indexed(address)
    targets: DynArray[address, MAX_ACTIONS]
    values: DynArray[uint256, MAX_ACTIONS]
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS]
    vote_start: uint256
    vote_end: uint256
    description: String[MAX_DESCRIPTION]


# @dev Emitted for every vote; `token_id` is the license that voted.
event VoteCast:
    voter: indexed(address)
    proposal_id: indexed(uint256)
    token_id: uint256
    support: uint8
    weight: uint256
    reason: String[MAX_REASON]


# @dev Emitted when a proposal is scheduled in the timelock;
# `eta` is the timestamp from which it can be executed.
event ProposalQueued:
    proposal_id: indexed(uint256)
    eta: uint256


# @dev Emitted when a proposal is executed through the timelock.
event ProposalExecuted:
    proposal_id: indexed(uint256)


# @dev Emitted when the proposer cancels a pending proposal.
event ProposalCanceled:
    proposal_id: indexed(uint256)


@deploy
@payable
def __init__(
    node_license_: address,
    timelock_: address,
    voting_delay_: uint256,
    voting_period_: uint256,
    proposal_threshold_: uint256,
    quorum_numerator_: uint256,
    grace_period_: uint256,
):
    """
    @dev Declared `payable` to omit the `msg.value` check from the
         creation bytecode.
    @param node_license_ The NodeLicense contract.
    @param timelock_ The NodeTimelock that will execute proposals;
           it must grant this contract PROPOSER_ROLE, CANCELLER_ROLE
           and EXECUTOR_ROLE.
    @param voting_delay_ Blocks between proposal and snapshot.
    @param voting_period_ Blocks of voting after the snapshot (> 0).
    @param proposal_threshold_ Active Validator licenses a proposer
           must hold (0 or 1 in practice).
    @param quorum_numerator_ Quorum in percent of the live (Active or
           Suspended) Validator licenses at the snapshot (<= 100).
    @param grace_period_ Seconds a queued proposal stays executable
           after its eta (> 0).
    """
    assert node_license_ != empty(address), "NodeGovernor: license is the zero address"
    assert timelock_ != empty(address), "NodeGovernor: timelock is the zero address"
    node_license = INodeLicense(node_license_)
    timelock = ITimelockController(timelock_)
    eip712_domain_separator.__init__(_NAME, _VERSION)
    governor_settings.__init__(
        voting_delay_, voting_period_, proposal_threshold_, quorum_numerator_, grace_period_
    )
    governor_counting.__init__()


@external
@view
def name() -> String[50]:
    """
    @notice The governor's name (also the EIP-712 domain name).
    @return String The name.
    """
    return _NAME


@external
@view
def version() -> String[20]:
    """
    @notice The governor's version (also the EIP-712 domain version).
    @return String The version.
    """
    return _VERSION


@external
@view
def clock() -> uint48:
    """
    @notice EIP-6372: the current timepoint (block number).
    @return uint48 The current block number.
    """
    return convert(block.number, uint48)


@external
@pure
def hash_proposal(
    targets: DynArray[address, MAX_ACTIONS],
    values: DynArray[uint256, MAX_ACTIONS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS],
    description_hash: bytes32,
) -> uint256:
    """
    @notice The id of a proposal, as OpenZeppelin's Governor:
            keccak256(abi.encode(targets, values, calldatas, description_hash)).
    @param targets The called contracts.
    @param values The wei sent with each call.
    @param calldatas The ABI-encoded calls.
    @param description_hash keccak256 of the description.
    @return uint256 The proposal id.
    """
    return self._hash_proposal(targets, values, calldatas, description_hash)


@external
@view
def state(proposal_id: uint256) -> uint8:
    """
    @notice The state of a proposal (see the contract notice for the codes).
    @dev Reverts for an unknown proposal.
    @param proposal_id The proposal.
    @return uint8 The state.
    """
    return self._state(proposal_id)


@external
@view
def proposal_snapshot(proposal_id: uint256) -> uint256:
    """
    @notice The snapshot block: the Validator licenses Active at its end
            vote, and the quorum is computed at it. 0 for an unknown
            proposal.
    @param proposal_id The proposal.
    @return uint256 The snapshot block number.
    """
    return self._proposals[proposal_id].vote_start


@external
@view
def proposal_deadline(proposal_id: uint256) -> uint256:
    """
    @notice The last block in which votes are accepted. 0 for an unknown
            proposal.
    @param proposal_id The proposal.
    @return uint256 The deadline block number.
    """
    return self._proposals[proposal_id].vote_end


@external
@view
def proposal_eta(proposal_id: uint256) -> uint256:
    """
    @notice The timestamp from which a queued proposal can be executed;
            0 when it has not been queued.
    @param proposal_id The proposal.
    @return uint256 The eta.
    """
    return self._proposals[proposal_id].eta


@external
@view
def proposal_proposer(proposal_id: uint256) -> address:
    """
    @notice The account that created a proposal (zero for an unknown one).
    @param proposal_id The proposal.
    @return address The proposer.
    """
    return self._proposals[proposal_id].proposer


@external
@view
def quorum(block_number: uint256) -> uint256:
    """
    @notice The votes (For + Abstain) needed at snapshot `block_number`:
            ceil(quorum_numerator_at(block_number) * live (Active or
            Suspended) Validator licenses at `block_number` / 100).
    @dev Reverts (in NodeLicense) for a block that is not mined yet.
    @param block_number The snapshot block.
    @return uint256 The quorum.
    """
    return self._quorum(block_number)


@external
@view
def get_votes(account: address, block_number: uint256) -> uint256:
    """
    @notice The votes `account` can cast on a proposal whose snapshot is
            `block_number`: 1 when it held an Active Validator license at
            the end of that block, else 0.
    @dev Historical (NodeLicense's `validator_license_at`) for a mined
         block; for the current block or a later one, the current status,
         which may still change.
    @param account The account.
    @param block_number The snapshot block.
    @return uint256 0 or 1.
    """
    return self._get_votes(account, block_number)


@external
@view
def nonces(owner: address) -> uint256:
    """
    @notice The nonce the next `cast_vote_by_sig` ballot of `owner` must carry.
    @param owner The voter.
    @return uint256 The nonce.
    """
    return self._nonces[owner]


@external
def propose(
    targets: DynArray[address, MAX_ACTIONS],
    values: DynArray[uint256, MAX_ACTIONS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS],
    description: String[MAX_DESCRIPTION],
) -> uint256:
    """
    @notice Creates a proposal. Its snapshot is `voting_delay` blocks from
            now and voting ends `voting_period` blocks after the snapshot.
            Emits `ProposalCreated`.
    @dev The proposer needs `proposal_threshold` votes at the previous
         block (see `get_votes`).
    @param targets The contracts to call (1 to 8).
    @param values The wei to send with each call.
    @param calldatas The ABI-encoded calls.
    @param description The proposal text (its hash is part of the id).
    @return uint256 The proposal id.
    """
    count: uint256 = len(targets)
    assert count != 0, "NodeGovernor: empty proposal"
    assert count == len(values) and count == len(calldatas), "NodeGovernor: invalid proposal length"

    threshold: uint256 = governor_settings.proposal_threshold
    if threshold != 0:
        assert (
            self._get_votes(msg.sender, block.number - 1) >= threshold
        ), "NodeGovernor: proposer votes below proposal threshold"

    proposal_id: uint256 = self._hash_proposal(targets, values, calldatas, keccak256(description))
    assert self._proposals[proposal_id].vote_start == 0, "NodeGovernor: proposal already exists"

    snapshot: uint256 = block.number + governor_settings.voting_delay
    deadline: uint256 = snapshot + governor_settings.voting_period
    self._proposals[proposal_id] = ProposalCore(
        proposer=msg.sender, vote_start=snapshot, vote_end=deadline, eta=0, executed=False, canceled=False
    )
    log ProposalCreated(
        proposal_id=proposal_id,
        proposer=msg.sender,
        targets=targets,
        values=values,
        calldatas=calldatas,
        vote_start=snapshot,
        vote_end=deadline,
        description=description,
    )
    return proposal_id


@external
def cast_vote(proposal_id: uint256, support: uint8) -> uint256:
    """
    @notice Votes on an Active proposal with the caller's Validator license.
            Emits `VoteCast`.
    @param proposal_id The proposal.
    @param support 0 Against, 1 For, 2 Abstain.
    @return uint256 The weight of the vote (1).
    """
    return self._cast_vote(proposal_id, msg.sender, support, "")


@external
def cast_vote_with_reason(proposal_id: uint256, support: uint8, reason: String[MAX_REASON]) -> uint256:
    """
    @notice Votes like `cast_vote` and records a reason in `VoteCast`.
    @param proposal_id The proposal.
    @param support 0 Against, 1 For, 2 Abstain.
    @param reason Free text (at most 256 characters).
    @return uint256 The weight of the vote (1).
    """
    return self._cast_vote(proposal_id, msg.sender, support, reason)


@external
def cast_vote_by_sig(proposal_id: uint256, support: uint8, voter: address, signature: Bytes[65]) -> uint256:
    """
    @notice Casts `voter`'s vote from an EIP-712 signature of
            Ballot(uint256 proposalId,uint8 support,address voter,uint256 nonce)
            over this contract's domain (name "NodeGovernor", version "1").
            The nonce is `nonces(voter)` and is used up by the vote, so
            a ballot cannot be replayed. Contract wallets sign through
            EIP-1271. Anyone may relay the ballot.
    @param proposal_id The proposal.
    @param support 0 Against, 1 For, 2 Abstain.
    @param voter The account whose license votes.
    @param signature The 65-byte (or 64-byte EIP-2098) ECDSA signature,
           or the bytes `voter`'s EIP-1271 `isValidSignature` accepts.
    @return uint256 The weight of the vote (1).
    """
    nonce: uint256 = self._nonces[voter]
    digest: bytes32 = eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(BALLOT_TYPEHASH, proposal_id, support, voter, nonce))
    )
    assert signature_checker._is_valid_signature_now(voter, digest, signature), "NodeGovernor: invalid signature"
    self._nonces[voter] = unsafe_add(nonce, 1)
    return self._cast_vote(proposal_id, voter, support, "")


@external
def queue(
    targets: DynArray[address, MAX_ACTIONS],
    values: DynArray[uint256, MAX_ACTIONS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS],
    description_hash: bytes32,
) -> uint256:
    """
    @notice Schedules a Succeeded proposal's calls in the timelock with
            the timelock's minimum delay and records its eta. Anyone may
            call it. Emits `ProposalQueued`.
    @dev A one-action proposal is scheduled with the timelock's
         `schedule`, a longer one with `schedule_batch` (NodeTimelock
         bounds its batches by `MAX_ACTIONS`, so the cost grows with the
         number of actions; see docs/gas.md).
    @param targets The proposal's targets.
    @param values The proposal's values.
    @param calldatas The proposal's calldatas.
    @param description_hash keccak256 of the proposal's description.
    @return uint256 The proposal id.
    """
    proposal_id: uint256 = self._hash_proposal(targets, values, calldatas, description_hash)
    assert self._state(proposal_id) == STATE_SUCCEEDED, "NodeGovernor: proposal not successful"

    delay: uint256 = staticcall timelock.get_minimum_delay()
    salt: bytes32 = self._timelock_salt(description_hash)
    self._timelock_ids[proposal_id] = self._timelock_operation_id(targets, values, calldatas, salt)
    eta: uint256 = block.timestamp + delay
    self._proposals[proposal_id].eta = eta
    if len(targets) == 1:
        extcall timelock.schedule(targets[0], values[0], calldatas[0], empty(bytes32), salt, delay)
    else:
        extcall timelock.schedule_batch(targets, values, calldatas, empty(bytes32), salt, delay)
    log ProposalQueued(proposal_id=proposal_id, eta=eta)
    return proposal_id


@external
@payable
def execute(
    targets: DynArray[address, MAX_ACTIONS],
    values: DynArray[uint256, MAX_ACTIONS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS],
    description_hash: bytes32,
) -> uint256:
    """
    @notice Executes a Queued proposal through the timelock (`execute`
            for one action, `execute_batch` for several) once its eta
            has passed and before it expires. Anyone may call it; the
            wei sent is forwarded to the timelock. Emits
            `ProposalExecuted` (and the timelock's `CallExecuted`s).
    @param targets The proposal's targets.
    @param values The proposal's values.
    @param calldatas The proposal's calldatas.
    @param description_hash keccak256 of the proposal's description.
    @return uint256 The proposal id.
    """
    proposal_id: uint256 = self._hash_proposal(targets, values, calldatas, description_hash)
    current: uint256 = convert(self._state(proposal_id), uint256)
    assert current != convert(STATE_EXPIRED, uint256), "NodeGovernor: proposal expired"
    assert current == convert(STATE_QUEUED, uint256), "NodeGovernor: proposal not queued"
    assert block.timestamp >= self._proposals[proposal_id].eta, "NodeGovernor: timelock delay not elapsed"

    # Effects before the interaction: a reentrant `execute` sees Executed.
    self._proposals[proposal_id].executed = True
    salt: bytes32 = self._timelock_salt(description_hash)
    if len(targets) == 1:
        extcall timelock.execute(targets[0], values[0], calldatas[0], empty(bytes32), salt, value=msg.value)
    else:
        extcall timelock.execute_batch(targets, values, calldatas, empty(bytes32), salt, value=msg.value)
    log ProposalExecuted(proposal_id=proposal_id)
    return proposal_id


@external
def cancel(
    targets: DynArray[address, MAX_ACTIONS],
    values: DynArray[uint256, MAX_ACTIONS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS],
    description_hash: bytes32,
) -> uint256:
    """
    @notice Cancels a proposal; only its proposer, and only while it is
            Pending (before voting starts). Emits `ProposalCanceled`.
    @param targets The proposal's targets.
    @param values The proposal's values.
    @param calldatas The proposal's calldatas.
    @param description_hash keccak256 of the proposal's description.
    @return uint256 The proposal id.
    """
    proposal_id: uint256 = self._hash_proposal(targets, values, calldatas, description_hash)
    current: uint8 = self._state(proposal_id)
    assert msg.sender == self._proposals[proposal_id].proposer, "NodeGovernor: only proposer can cancel"
    assert current == STATE_PENDING, "NodeGovernor: proposal not pending"
    self._proposals[proposal_id].canceled = True
    log ProposalCanceled(proposal_id=proposal_id)
    return proposal_id


@external
def set_voting_delay(new_voting_delay: uint256):
    """
    @notice Sets the voting delay in blocks (governance only). Emits
            `VotingDelaySet`. Applies to proposals created afterwards.
    @param new_voting_delay The new voting delay.
    """
    self._check_governance()
    governor_settings._set_voting_delay(new_voting_delay)


@external
def set_voting_period(new_voting_period: uint256):
    """
    @notice Sets the voting period in blocks, > 0 (governance only). Emits
            `VotingPeriodSet`. Applies to proposals created afterwards.
    @param new_voting_period The new voting period.
    """
    self._check_governance()
    governor_settings._set_voting_period(new_voting_period)


@external
def set_proposal_threshold(new_proposal_threshold: uint256):
    """
    @notice Sets the votes needed to propose (governance only). Emits
            `ProposalThresholdSet`.
    @param new_proposal_threshold The new threshold.
    """
    self._check_governance()
    governor_settings._set_proposal_threshold(new_proposal_threshold)


@external
def update_quorum_numerator(new_quorum_numerator: uint256):
    """
    @notice Sets the quorum in percent, <= 100 (governance only), from this
            block on; proposals whose snapshot is earlier keep their quorum.
            Emits `QuorumNumeratorUpdated`.
    @param new_quorum_numerator The new numerator.
    """
    self._check_governance()
    governor_settings._update_quorum_numerator(new_quorum_numerator)


@external
def set_grace_period(new_grace_period: uint256):
    """
    @notice Sets the seconds a queued proposal stays executable after its
            eta, > 0 (governance only). Applies to every queued proposal,
            including those queued before the change. Emits `GracePeriodSet`.
    @param new_grace_period The new grace period.
    """
    self._check_governance()
    governor_settings._set_grace_period(new_grace_period)


@internal
@view
def _check_governance():
    """
    @dev Only calls made by the timelock, i.e. executed proposals, pass.
    """
    assert msg.sender == timelock.address, "NodeGovernor: only governance"


@internal
@pure
def _hash_proposal(
    targets: DynArray[address, MAX_ACTIONS],
    values: DynArray[uint256, MAX_ACTIONS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS],
    description_hash: bytes32,
) -> uint256:
    """
    @dev keccak256(abi.encode(targets, values, calldatas, description_hash)).
    """
    return convert(keccak256(abi_encode(targets, values, calldatas, description_hash)), uint256)


@internal
@pure
def _timelock_operation_id(
    targets: DynArray[address, MAX_ACTIONS],
    values: DynArray[uint256, MAX_ACTIONS],
    calldatas: DynArray[Bytes[MAX_CALLDATA], MAX_ACTIONS],
    salt: bytes32,
) -> bytes32:
    """
    @dev The timelock's operation id of a proposal without predecessor,
         computed as snekmate's `hash_operation` (one action) or
         `hash_operation_batch` (several) do; ABI encoding does not depend
         on array bounds, so the ids match.
    """
    if len(targets) == 1:
        return keccak256(abi_encode(targets[0], values[0], calldatas[0], empty(bytes32), salt))
    return keccak256(abi_encode(targets, values, calldatas, empty(bytes32), salt))


@internal
@view
def _timelock_salt(description_hash: bytes32) -> bytes32:
    """
    @dev As OpenZeppelin's GovernorTimelockControl: this contract's address
         left-aligned in 32 bytes, XOR the description hash, so two
         governors sharing a timelock never collide.
    """
    return convert(
        (convert(self, uint256) << 96) ^ convert(description_hash, uint256), bytes32
    )


@internal
@view
def _state(proposal_id: uint256) -> uint8:
    """
    @dev The state machine; reverts for an unknown proposal.
    """
    proposal: ProposalCore = self._proposals[proposal_id]
    assert proposal.vote_start != 0, "NodeGovernor: unknown proposal"
    if proposal.executed:
        return STATE_EXECUTED
    if proposal.canceled:
        return STATE_CANCELED
    if proposal.vote_start >= block.number:
        return STATE_PENDING
    if proposal.vote_end >= block.number:
        return STATE_ACTIVE
    if not (
        governor_counting._quorum_reached(proposal_id, self._quorum(proposal.vote_start))
        and governor_counting._vote_succeeded(proposal_id)
    ):
        return STATE_DEFEATED
    if proposal.eta == 0:
        return STATE_SUCCEEDED

    operation_id: bytes32 = self._timelock_ids[proposal_id]
    if staticcall timelock.is_operation_done(operation_id):
        # Executed on the timelock directly (only possible when the
        # executor role is open to everyone).
        return STATE_EXECUTED
    if not staticcall timelock.is_operation_pending(operation_id):
        # Cancelled on the timelock by a canceller.
        return STATE_CANCELED
    if block.timestamp >= proposal.eta + governor_settings.grace_period:
        return STATE_EXPIRED
    return STATE_QUEUED


@internal
@view
def _quorum(block_number: uint256) -> uint256:
    """
    @dev ceil(numerator * live Validator licenses / 100).
    """
    numerator: uint256 = governor_settings._quorum_numerator_at(block_number)
    supply: uint256 = staticcall node_license.supply_at(VALIDATOR, block_number)
    return (numerator * supply + governor_settings.QUORUM_DENOMINATOR - 1) // governor_settings.QUORUM_DENOMINATOR


@internal
@view
def _get_votes(account: address, block_number: uint256) -> uint256:
    """
    @dev 1 when `account` held an Active Validator license at the end of
         `block_number` (now, for a block not yet mined), else 0.
    """
    if block_number >= block.number:
        return convert(staticcall node_license.is_active(account, VALIDATOR), uint256)
    return convert(staticcall node_license.validator_license_at(account, block_number) != 0, uint256)


@internal
@view
def _explain_no_vote(voter: address, snapshot: uint256):
    """
    @dev Reverts with why `voter` has no vote at `snapshot`: it holds no
         Validator license, its license was minted after the snapshot,
         or it held no Active one at the snapshot (Suspended then, or
         reassigned to it later).
    """
    token_id: uint256 = staticcall node_license.token_of(voter, VALIDATOR)
    assert token_id != 0, "NodeGovernor: no validator license"
    license: INodeLicense.License = staticcall node_license.license_of(token_id)
    assert license.minted_block <= snapshot, "NodeGovernor: license minted after snapshot"
    raise "NodeGovernor: license not active at snapshot"


@internal
def _cast_vote(proposal_id: uint256, voter: address, support: uint8, reason: String[MAX_REASON]) -> uint256:
    """
    @dev Checks that the proposal is Active and that `voter` held an
         Active Validator license at the end of the snapshot block, then
         records one vote for that license and emits `VoteCast`.
    """
    assert self._state(proposal_id) == STATE_ACTIVE, "NodeGovernor: vote not currently active"
    snapshot: uint256 = self._proposals[proposal_id].vote_start
    token_id: uint256 = staticcall node_license.validator_license_at(voter, snapshot)
    if token_id == 0:
        self._explain_no_vote(voter, snapshot)

    weight: uint256 = 1
    governor_counting._count_vote(proposal_id, voter, token_id, support, weight)
    log VoteCast(
        voter=voter, proposal_id=proposal_id, token_id=token_id, support=support, weight=weight, reason=reason
    )
    return weight
