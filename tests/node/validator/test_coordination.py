"""Network coordination: peer scores against hand-computed values of the documented formula,
and the lease decision (create, renew, take over an expired lease, or wait)."""

from __future__ import annotations

import math

import pytest

from node.errors import EmptyInput, InvalidParameter, NonFiniteInput
from node.validator.coordination import (
    Lease,
    PeerStats,
    Stored,
    acquire_leader_lease,
    score_peer,
)


def test_score_peer__mixed_record__hand_computed():
    # uptime 18/20 = 0.9; validity 1 - 5/50 = 0.9, squared 0.81; median latency 200 ms with
    # h = 250: 250/450 = 0.5556; 0.9 * 0.81 * 0.5556 = 0.405.
    score = score_peer(PeerStats(50, 5, [300.0, 100.0, 200.0], 18, 20))

    assert (score.uptime, score.validity) == (0.9, 0.9)
    assert score.latency_factor == pytest.approx(5 / 9)
    assert score.score == pytest.approx(0.405)


def test_score_peer__perfect_peer__one_and_silent_peer__zero():
    assert score_peer(PeerStats(10, 0, [0.0], 5, 5)).score == 1.0
    assert score_peer(PeerStats(0, 0, [], 0, 5)).score == 0.0


def test_score_peer__half_invalid__a_quarter_of_the_score():
    clean = score_peer(PeerStats(20, 0, [100.0], 10, 10)).score
    half = score_peer(PeerStats(20, 10, [100.0], 10, 10)).score

    assert half == pytest.approx(clean / 4)


def test_score_peer__negative_latency_from_skew__counts_as_zero():
    assert score_peer(PeerStats(3, 0, [-40.0, -10.0, -5.0], 2, 2)).latency_factor == 1.0


@pytest.mark.parametrize(("stats", "error"), [
    (PeerStats(1, 0, [1.0], 0, 0), EmptyInput),
    (PeerStats(1, 0, [1.0], 3, 2), InvalidParameter),
    (PeerStats(1, 2, [1.0], 1, 2), InvalidParameter),
    (PeerStats(1, 0, [math.nan], 1, 2), NonFiniteInput),
])
def test_score_peer__contradicting_counts__refused(stats, error):
    with pytest.raises(error):
        score_peer(stats)


ME, OTHER = "validator-a", "validator-b"


def test_acquire_leader_lease__nothing_stored__create():
    decision = acquire_leader_lease(None, ME, 100.0, 5.0)

    assert (decision.action, decision.lease, decision.revision) == ("create", Lease(ME, 105.0),
                                                                    None)


def test_acquire_leader_lease__mine__renew_at_the_read_revision():
    decision = acquire_leader_lease(Stored(Lease(ME, 103.0), 7), ME, 100.0, 5.0)

    assert (decision.action, decision.lease, decision.revision) == ("renew", Lease(ME, 105.0), 7)


def test_acquire_leader_lease__another_holds_it__wait_until_it_expires():
    decision = acquire_leader_lease(Stored(Lease(OTHER, 103.0), 7), ME, 100.0, 5.0)

    assert (decision.action, decision.lease, decision.writes) == ("wait", Lease(OTHER, 103.0),
                                                                  False)


def test_acquire_leader_lease__another_expired__take_over_at_its_revision():
    decision = acquire_leader_lease(Stored(Lease(OTHER, 100.0), 7), ME, 100.0, 5.0)

    assert (decision.action, decision.lease, decision.revision) == ("take_over",
                                                                    Lease(ME, 105.0), 7)


@pytest.mark.parametrize(("now", "ttl"), [(100.0, 0.0), (100.0, -1.0), (100.0, math.inf)])
def test_acquire_leader_lease__bad_ttl__refused(now, ttl):
    with pytest.raises(InvalidParameter):
        acquire_leader_lease(None, ME, now, ttl)
