"""Each PBFT rule of the replica, one input at a time (four members: f = 1, quorum 3)."""

from __future__ import annotations

import pytest

from node.consensus import proposals
from node.consensus.messages import Commit, Decided, NewView, Prepare, PrePrepare, ViewChange
from node.consensus.replica import Replica, StartTimer, leader_first
from tests.node.consensus.conftest import CHECK, RETRANSMIT, TIMEOUT, observed
from tests.node.consensus.helpers import (
    certificate,
    commit,
    decisions,
    pre_prepare,
    prepare,
    sent,
    view_change,
)


def test_start_round__leader__pre_prepares_the_median(members, observations):
    leader = Replica(members[0], timeout_ticks=TIMEOUT, retransmit_ticks=RETRANSMIT,
                     min_observations=3, check_observation=CHECK)
    actions = leader.start_round(0, members, observations, now=0)
    [sent_pre_prepare] = sent(actions, PrePrepare)
    assert sent_pre_prepare.proposal.value == 103
    assert sent(actions, Prepare) == [prepare(members[0], sent_pre_prepare.proposal)]
    assert StartTimer(TIMEOUT) in actions


def test_start_round__not_a_member__raises(members, observations):
    outsider = Replica("0x" + "9" * 40, timeout_ticks=TIMEOUT, retransmit_ticks=RETRANSMIT,
                       min_observations=3, check_observation=CHECK)
    with pytest.raises(ValueError, match="not a member"):
        outsider.start_round(0, members, observations, now=0)


def test_pre_prepare__from_leader__prepares(replica_at, members, proposal):
    actions = replica_at(1).on_message(pre_prepare(members[0], proposal), now=1)
    assert sent(actions, Prepare) == [prepare(members[1], proposal)]


def test_pre_prepare__from_non_leader__ignored(replica_at, members, proposal):
    assert replica_at(1).on_message(pre_prepare(members[2], proposal), now=1) == []


def test_pre_prepare__value_not_the_median__ignored(replica_at, members, proposal):
    forged = type(proposal)(proposal.round, proposal.observations, proposal.value + 1)
    assert replica_at(1).on_message(pre_prepare(members[0], forged), now=1) == []


def test_pre_prepare__second_one_in_the_view__ignored(replica_at, members, proposal,
                                                      other_proposal):
    replica = replica_at(1)
    replica.on_message(pre_prepare(members[0], proposal), now=1)
    assert replica.on_message(pre_prepare(members[0], other_proposal), now=2) == []


def test_commit__sent_only_after_quorum_of_prepares(replica_at, members, proposal):
    replica = replica_at(1)
    replica.on_message(pre_prepare(members[0], proposal), now=1)
    assert sent(replica.on_message(prepare(members[0], proposal), now=2), Commit) == []
    actions = replica.on_message(prepare(members[2], proposal), now=3)
    assert sent(actions, Commit) == [commit(members[1], proposal)]


def test_commit__prepares_for_another_digest__do_not_count(replica_at, members, proposal,
                                                           other_proposal):
    replica = replica_at(1)
    replica.on_message(pre_prepare(members[0], proposal), now=1)
    replica.on_message(prepare(members[0], other_proposal), now=2)
    assert sent(replica.on_message(prepare(members[2], other_proposal), now=3), Commit) == []


def test_commit__duplicate_prepares_of_one_sender__count_once(replica_at, members, proposal):
    replica = replica_at(1)
    replica.on_message(pre_prepare(members[0], proposal), now=1)
    replica.on_message(prepare(members[0], proposal), now=2)
    assert sent(replica.on_message(prepare(members[0], proposal), now=3), Commit) == []


def test_decide__needs_quorum_of_commits(replica_at, members, proposal):
    replica = replica_at(1)
    replica.on_message(pre_prepare(members[0], proposal), now=1)
    assert decisions(replica.on_message(commit(members[0], proposal), now=2)) == []
    assert decisions(replica.on_message(commit(members[2], proposal), now=3)) == []
    [decision] = decisions(replica.on_message(commit(members[3], proposal), now=4))
    assert (decision.round, decision.value) == (0, 103)
    assert decision.certificate == {members[0], members[2], members[3]}
    assert replica.decision(0) == proposal


def test_decide__commits_before_the_pre_prepare__decides_once_it_arrives(replica_at, members,
                                                                        proposal):
    replica = replica_at(1)
    for sender in members[:3]:
        assert decisions(replica.on_message(commit(sender, proposal), now=1)) == []
    [decision] = decisions(replica.on_message(pre_prepare(members[0], proposal), now=2))
    assert decision.value == proposal.value


def test_message__from_non_member__ignored(replica_at, members, proposal):
    replica = replica_at(1)
    replica.on_message(pre_prepare(members[0], proposal), now=1)
    replica.on_message(prepare(members[0], proposal), now=2)
    assert replica.on_message(prepare("0x" + "9" * 40, proposal), now=3) == []


def test_timer__before_timeout__only_retransmits(replica_at, members, proposal):
    replica = replica_at(1)
    replica.on_message(pre_prepare(members[0], proposal), now=1)
    actions = replica.on_timer(now=RETRANSMIT)
    assert sent(actions, Prepare) == [prepare(members[1], proposal)]
    assert sent(actions, ViewChange) == []


def test_view_change__after_timeout__asks_for_next_view(replica_at, members):
    replica = replica_at(1)
    actions = replica.on_timer(now=TIMEOUT)
    assert sent(actions, ViewChange) == [view_change(members[1], 1)]
    assert StartTimer(2 * TIMEOUT) in actions
    assert replica.view == 1


def test_view_change__quorum__next_member_leads_the_new_view(replica_at, members, observations):
    new_leader = replica_at(1)
    new_leader.on_timer(now=TIMEOUT)
    new_leader.on_message(view_change(members[2], 1), now=TIMEOUT + 1)
    actions = new_leader.on_message(view_change(members[3], 1), now=TIMEOUT + 2)
    [new_view] = sent(actions, NewView)
    assert new_view.sender == members[1] == members[(0 + 1) % 4]
    assert new_view.pre_prepare.proposal.value == 103
    assert sent(actions, Prepare) == [prepare(members[1], new_view.pre_prepare.proposal, 1)]


def test_view_change__quorum_at_a_non_leader__no_new_view(replica_at, members):
    replica = replica_at(2)
    replica.on_timer(now=TIMEOUT)
    replica.on_message(view_change(members[1], 1), now=TIMEOUT + 1)
    assert sent(replica.on_message(view_change(members[3], 1), now=TIMEOUT + 2), NewView) == []


def test_view_change__f_plus_one_ask_higher__joins_before_own_timeout(replica_at, members):
    replica = replica_at(3)
    assert replica.on_message(view_change(members[1], 2), now=5) == []
    actions = replica.on_message(view_change(members[2], 2), now=6)
    assert sent(actions, ViewChange) == [view_change(members[3], 2)]


def test_new_view__carries_the_prepared_value(replica_at, members, observations, proposal,
                                              other_proposal):
    new_leader = replica_at(1, own=observations[1:])
    new_leader.on_timer(now=TIMEOUT)
    prepared = certificate(members, proposal)
    new_leader.on_message(view_change(members[2], 1, prepared), now=TIMEOUT + 1)
    actions = new_leader.on_message(view_change(members[3], 1), now=TIMEOUT + 2)
    [new_view] = sent(actions, NewView)
    assert new_view.pre_prepare.proposal == proposal != other_proposal


def test_new_view__dropping_the_prepared_value__rejected(replica_at, members, proposal,
                                                         other_proposal):
    changes = (view_change(members[0], 1), view_change(members[2], 1,
                                                       certificate(members, proposal)),
               view_change(members[3], 1))
    forged = NewView(members[1], 0, 1, changes, pre_prepare(members[1], other_proposal, 1))
    honest = NewView(members[1], 0, 1, changes, pre_prepare(members[1], proposal, 1))
    assert sent(replica_at(2).on_message(forged, now=TIMEOUT + 3), Prepare) == []
    assert sent(replica_at(2).on_message(honest, now=TIMEOUT + 3), Prepare) == [
        prepare(members[2], proposal, 1)]


def test_new_view__from_the_wrong_leader__rejected(replica_at, members, proposal):
    changes = tuple(view_change(member, 1) for member in members[1:])
    wrong = NewView(members[2], 0, 1, changes, pre_prepare(members[2], proposal, 1))
    assert replica_at(3).on_message(wrong, now=TIMEOUT) == []


def test_new_view__too_few_view_changes__rejected(replica_at, members, proposal):
    changes = tuple(view_change(member, 1) for member in members[2:])
    short = NewView(members[1], 0, 1, changes, pre_prepare(members[1], proposal, 1))
    assert replica_at(3).on_message(short, now=TIMEOUT) == []


def test_view_change__forged_certificate_short_of_quorum__ignored(replica_at, members,
                                                                  proposal):
    short = certificate(members, proposal)
    short = type(short)(short.pre_prepare, short.prepares[:2])
    new_leader = replica_at(1)
    new_leader.on_timer(now=TIMEOUT)
    assert new_leader.on_message(view_change(members[2], 1, short), now=TIMEOUT + 1) == []


def test_decided__laggard__gets_the_commit_certificate(replica_at, members, proposal):
    decided = replica_at(1)
    decided.on_message(pre_prepare(members[0], proposal), now=1)
    for sender in (members[0], members[2], members[3]):
        decided.on_message(commit(sender, proposal), now=2)
    [reply] = decided.on_message(view_change(members[3], 1), now=TIMEOUT)
    assert isinstance(reply.message, Decided) and reply.to == (members[3],)
    laggard = replica_at(3)
    [decision] = decisions(laggard.on_message(reply.message, now=TIMEOUT + 1))
    assert decision.value == proposal.value


def test_decide__after_the_leader_died__the_new_views_leader_transmits_first(replica_at,
                                                                           members):
    """members[0] leads round 0 and is dead: the round is decided in view 1, whose leader
    carried it, so the staged transmission must not start with the dead one (and wait its
    turn's delay for nothing)."""
    new_leader, replica = replica_at(1), replica_at(2)
    for live in (new_leader, replica):
        live.on_timer(now=TIMEOUT)
    new_leader.on_message(view_change(members[2], 1), now=TIMEOUT + 1)
    [new_view] = sent(new_leader.on_message(view_change(members[3], 1), now=TIMEOUT + 2),
                      NewView)
    proposal = new_view.pre_prepare.proposal
    replica.on_message(new_view, now=TIMEOUT + 3)
    for sender in (members[1], members[3]):
        replica.on_message(prepare(sender, proposal, 1), now=TIMEOUT + 4)
    actions = []
    for sender in (members[1], members[3]):
        actions += replica.on_message(commit(sender, proposal, 1), now=TIMEOUT + 5)
    [decision] = decisions(actions)
    assert decision.view == 1
    assert leader_first(members, decision.view) == members[1:] + members[:1]


def test_decide__commits_of_a_view_it_has_left__names_the_view_they_were_cast_in(
        replica_at, members, proposal):
    """A replica whose timer fired just before view 0's commits arrived decides in view 0,
    led by members[0]: its transmission order must be everyone's, not start at its own
    current view's leader (two first transmitters, or none for a whole stage delay)."""
    replica = replica_at(2)
    replica.on_message(pre_prepare(members[0], proposal), now=1)
    replica.on_timer(now=TIMEOUT)
    actions = []
    for sender in (members[0], members[1], members[3]):
        actions += replica.on_message(commit(sender, proposal), now=TIMEOUT + 1)
    [decision] = decisions(actions)
    assert (replica.view, decision.view) == (1, 0)
    assert leader_first(members, decision.view)[0] == members[0]


def test_leader_first__any_view__rotates_the_sorted_members_to_its_leader(members):
    shuffled = (members[2], members[0], members[3], members[1])
    assert leader_first(shuffled, 4) == members
    assert leader_first(shuffled, 7) == (members[3], *members[:3])


def test_decided__fewer_than_quorum_commits__ignored(replica_at, members, proposal):
    claim = Decided(members[1], 0, proposal, (commit(members[0], proposal),
                                              commit(members[1], proposal)))
    assert replica_at(3).on_message(claim, now=1) == []


def test_start_round__messages_of_that_round_received_early__replayed(members, observations,
                                                                      proposal):
    replica = Replica(members[1], timeout_ticks=TIMEOUT, retransmit_ticks=RETRANSMIT,
                      min_observations=3, check_observation=CHECK)
    assert replica.on_message(pre_prepare(members[0], proposal), now=0) == []
    actions = replica.start_round(0, members, observations, now=1)
    assert sent(actions, Prepare) == [prepare(members[1], proposal)]


def test_start_round__removed_validator__its_votes_no_longer_count():
    """Membership comes per round from the license registry: a validator removed before round 1
    is not among round 1's members, so its prepare does not complete the quorum."""
    five = tuple(f"0x{index:040x}" for index in range(1, 6))
    remaining = five[:4]
    replica = Replica(five[2], timeout_ticks=TIMEOUT, retransmit_ticks=RETRANSMIT,
                      min_observations=3, check_observation=CHECK)
    replica.start_round(1, remaining, observed(1), now=0)
    next_proposal = proposals.propose(1, observed(1))
    replica.on_message(pre_prepare(remaining[1 % 4], next_proposal, view=1), now=1)
    replica.on_message(prepare(remaining[1], next_proposal, view=1), now=2)
    assert sent(replica.on_message(prepare(five[4], next_proposal, view=1), now=3), Commit) == []
    actions = replica.on_message(prepare(remaining[3], next_proposal, view=1), now=4)
    assert sent(actions, Commit) == [Commit(five[2], 1, 1, next_proposal.digest)]


def test_decide__five_members__needs_four_commits(observations):
    """With n = 5 (f = 1) the quorum is n - f = 4, not 2f + 1 = 3: two sets of three share only
    one member, who may be the faulty one."""
    five = tuple(f"0x{index:040x}" for index in range(1, 6))
    replica = Replica(five[1], timeout_ticks=TIMEOUT, retransmit_ticks=RETRANSMIT,
                      min_observations=3, check_observation=CHECK)
    replica.start_round(0, five, observations, now=0)
    proposal = proposals.propose(0, observations)
    replica.on_message(pre_prepare(five[0], proposal), now=1)
    for sender in five[2:5]:
        assert decisions(replica.on_message(commit(sender, proposal), now=2)) == []
    assert decisions(replica.on_message(commit(five[0], proposal), now=3))
