# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title One-License-One-Vote Counting
@custom:contract-name governor_counting
@license GNU Affero General Public License v3.0 only
@notice Vote counting for NodeGovernor in the style of OpenZeppelin's
        GovernorCountingSimple (support 0 Against, 1 For, 2 Abstain;
        quorum counts For + Abstain; a proposal succeeds when For >
        Against), with one difference: a vote is recorded per license
        token id as well as per account, so a license that changes
        hands (reassignment) cannot vote twice on one proposal.

        This module only records votes; who may vote and with which
        weight is decided by the contract that `initializes` it.
"""


# @dev The support values of a vote.
VOTE_AGAINST: public(constant(uint8)) = 0
VOTE_FOR: public(constant(uint8)) = 1
VOTE_ABSTAIN: public(constant(uint8)) = 2


# @dev The EIP-6372-style description of the counting rules,
# as OpenZeppelin's GovernorCountingSimple.
COUNTING_MODE: public(constant(String[40])) = "support=bravo&quorum=for,abstain"


# @dev The tally of one proposal.
struct ProposalVote:
    against_votes: uint256
    for_votes: uint256
    abstain_votes: uint256


_proposal_votes: HashMap[uint256, ProposalVote]
_token_has_voted: HashMap[uint256, HashMap[uint256, bool]]
_has_voted: HashMap[uint256, HashMap[address, bool]]


@deploy
@payable
def __init__():
    """
    @dev Nothing to initialise; declared `payable` to omit the
         `msg.value` check from the creation bytecode.
    """
    pass


@external
@view
def proposal_votes(proposal_id: uint256) -> (uint256, uint256, uint256):
    """
    @notice The tally of a proposal.
    @param proposal_id The proposal.
    @return uint256 The Against votes.
    @return uint256 The For votes.
    @return uint256 The Abstain votes.
    """
    tally: ProposalVote = self._proposal_votes[proposal_id]
    return (tally.against_votes, tally.for_votes, tally.abstain_votes)


@external
@view
def has_voted(proposal_id: uint256, account: address) -> bool:
    """
    @notice Whether `account` cast a vote on a proposal (with whichever
            license it held at the time).
    @param proposal_id The proposal.
    @param account The voter.
    @return bool True once `account` has voted.
    """
    return self._has_voted[proposal_id][account]


@external
@view
def token_has_voted(proposal_id: uint256, token_id: uint256) -> bool:
    """
    @notice Whether license `token_id` has been used to vote on a
            proposal, whoever held it at the time.
    @param proposal_id The proposal.
    @param token_id The license token id.
    @return bool True once the license has voted.
    """
    return self._token_has_voted[proposal_id][token_id]


@internal
def _count_vote(proposal_id: uint256, account: address, token_id: uint256, support: uint8, weight: uint256):
    """
    @dev Records a vote of `weight` by `account` with license `token_id`.
         Reverts for an unknown support value or a license that has
         already voted on the proposal.
    @param proposal_id The proposal.
    @param account The voter.
    @param token_id The license the vote is cast with.
    @param support 0 Against, 1 For, 2 Abstain.
    @param weight The number of votes.
    """
    assert support <= VOTE_ABSTAIN, "NodeGovernor: invalid vote type"
    assert not self._token_has_voted[proposal_id][token_id], "NodeGovernor: license already voted"
    self._token_has_voted[proposal_id][token_id] = True
    self._has_voted[proposal_id][account] = True
    if support == VOTE_AGAINST:
        self._proposal_votes[proposal_id].against_votes += weight
    elif support == VOTE_FOR:
        self._proposal_votes[proposal_id].for_votes += weight
    else:
        self._proposal_votes[proposal_id].abstain_votes += weight


@internal
@view
def _quorum_reached(proposal_id: uint256, quorum: uint256) -> bool:
    """
    @dev For + Abstain votes reach `quorum`.
    @param proposal_id The proposal.
    @param quorum The votes needed.
    @return bool True when the quorum is reached.
    """
    tally: ProposalVote = self._proposal_votes[proposal_id]
    return tally.for_votes + tally.abstain_votes >= quorum


@internal
@view
def _vote_succeeded(proposal_id: uint256) -> bool:
    """
    @dev Strictly more For than Against votes.
    @param proposal_id The proposal.
    @return bool True when the vote succeeded.
    """
    tally: ProposalVote = self._proposal_votes[proposal_id]
    return tally.for_votes > tally.against_votes
