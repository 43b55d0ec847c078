"""A Byzantine leader cannot invent oracle values: every observation a proposal carries must pass
the replica's observation check (in these tests the simulation's: a seal by a licensed oracle of
that round and value), or the proposal is refused wherever it appears and the view times out to
the next leader. Four members: f = 1, quorum 3."""

from __future__ import annotations

from dataclasses import replace

import pytest

from node.consensus import proposals, simulation
from node.consensus.messages import (
    Decided,
    NewView,
    OracleValue,
    Prepare,
    PrePrepare,
    ViewChange,
)
from node.consensus.replica import Replica
from node.consensus.simulation import SafetyViolation, Scenario, run, seal
from tests.node.consensus.conftest import CHECK, RETRANSMIT, TIMEOUT, observed
from tests.node.consensus.helpers import certificate, commit, pre_prepare, sent, view_change

MADE_UP = 500


def unsigned(item: OracleValue) -> OracleValue:
    return OracleValue(item.oracle, MADE_UP)


def signed_by_a_non_oracle(item: OracleValue) -> OracleValue:
    intruder = item.oracle.replace("oracle", "intruder")
    return OracleValue(intruder, MADE_UP, seal(intruder, 0, MADE_UP))


def oracle_signature_over_another_value(item: OracleValue) -> OracleValue:
    return OracleValue(item.oracle, MADE_UP, item.proof)


def signed_for_another_round(item: OracleValue) -> OracleValue:
    return OracleValue(item.oracle, MADE_UP, seal(item.oracle, 1, MADE_UP))


FABRICATIONS = [unsigned, signed_by_a_non_oracle, oracle_signature_over_another_value,
                signed_for_another_round]


def fabricated(how, count: int = 3) -> proposals.Proposal:
    """A round-0 proposal whose first `count` observations (a majority: the median moves) are
    made up `how`."""
    genuine = observed(0)
    return proposals.propose(0, [*map(how, genuine[:count]), *genuine[count:]])


@pytest.mark.parametrize("how", FABRICATIONS)
def test_pre_prepare__made_up_observation__refused_and_the_view_changes(replica_at, members,
                                                                         how):
    replica = replica_at(1)
    assert replica.on_message(pre_prepare(members[0], fabricated(how)), now=1) == []
    actions = replica.on_timer(now=TIMEOUT)
    assert sent(actions, ViewChange) == [view_change(members[1], 1)]


@pytest.mark.parametrize("how", FABRICATIONS)
def test_pre_prepare__one_made_up_observation_of_five__refused(replica_at, members, how):
    assert replica_at(2).on_message(pre_prepare(members[0], fabricated(how, count=1)),
                                    now=1) == []


def test_pre_prepare__one_oracle_twice__refused(replica_at, members, proposal):
    first = proposal.observations[0]
    twice = replace(proposal, observations=(first, *proposal.observations))
    twice = replace(twice, value=proposals.median_value(twice.observations))
    assert replica_at(1).on_message(pre_prepare(members[0], twice), now=1) == []


def test_pre_prepare__genuine_observations__prepared(replica_at, members, proposal):
    actions = replica_at(1).on_message(pre_prepare(members[0], proposal), now=1)
    assert sent(actions, Prepare)


@pytest.mark.parametrize("how", FABRICATIONS)
def test_new_view__made_up_proposal__refused(replica_at, members, how):
    changes = tuple(view_change(member, 1) for member in (members[0], members[2], members[3]))
    forged = NewView(members[1], 0, 1, changes, pre_prepare(members[1], fabricated(how), 1))
    assert sent(replica_at(2).on_message(forged, now=TIMEOUT + 3), Prepare) == []


def test_view_change__certificate_of_a_made_up_proposal__not_carried(replica_at, members):
    new_leader = replica_at(1)
    new_leader.on_timer(now=TIMEOUT)
    made_up = certificate(members, fabricated(unsigned))
    actions = new_leader.on_message(view_change(members[2], 1, made_up), now=TIMEOUT + 1)
    actions += new_leader.on_message(view_change(members[3], 1), now=TIMEOUT + 2)
    actions += new_leader.on_message(view_change(members[0], 1), now=TIMEOUT + 3)
    [new_view] = sent(actions, NewView)
    assert new_view.pre_prepare.proposal.value == 103


def test_decided__made_up_proposal__ignored(replica_at, members):
    made_up = fabricated(oracle_signature_over_another_value)
    claim = Decided(members[0], 0, made_up, tuple(commit(member, made_up)
                                                   for member in members[:3]))
    assert replica_at(3).on_message(claim, now=1) == []


def test_start_round__leader_holding_an_unsigned_observation__proposes_without_it(members):
    genuine = observed(0)
    leader = Replica(members[0], timeout_ticks=TIMEOUT, retransmit_ticks=RETRANSMIT,
                     min_observations=3, check_observation=CHECK)
    actions = leader.start_round(0, members, (unsigned(genuine[0]), *genuine[1:]), now=0)
    [sent_pre_prepare] = sent(actions, PrePrepare)
    assert sent_pre_prepare.proposal.observations == genuine[1:]


def test_simulation__replicas_without_the_observation_check__checker_finds_made_up_values(
        monkeypatch):
    """test_simulation.py runs fabricating leaders (the `fabricate` fault) over 200 seeds at
    n = 4 and among the n = 7 faults; the same attack against replicas that accept any
    observation must make the safety checker catch a decided value that is not the median of
    genuine observations."""
    monkeypatch.setattr(simulation, "oracle_check",
                        lambda oracles: lambda round_number, item: True)
    with pytest.raises(SafetyViolation, match="decided an invalid value"):
        run(Scenario(seed=0, n=4, faults=((0, "fabricate"),), drop_rate=0.0, partitions=False))
