"""A round that ends undecided because fewer validators than the quorum answered says so: a
rejected `handle_view_change` record with the count and the silent members, and a warning. One
that ends undecided with a quorum answering but no oracle observation to propose says that, at
INFO (a quiet market skips rounds by design)."""

from __future__ import annotations

import logging

from node.execution import ExecutionLog
from node.runtime.attendance import Attendance, consensus_quorum

MEMBERS = tuple(f"0x{index:040x}" for index in range(1, 5))


def attendance(heard: tuple[str, ...], observed: int = 2) -> tuple[Attendance, ExecutionLog]:
    log = ExecutionLog()
    watched = Attendance("SP500", MEMBERS[0], log, min_observations=1)
    watched.open(57, MEMBERS, observed)
    for sender in heard:
        watched.heard_from(sender)
    return watched, log


def test_close__two_of_four_answer__records_and_logs_why(caplog):
    watched, log = attendance((MEMBERS[2],))
    with caplog.at_level(logging.WARNING, logger="noderr.node.validator"):
        reason = watched.close(decided=False)

    expected = (f"round 57 of SP500: 2 of 4 validators answer, quorum 3; silent: {MEMBERS[1]}, "
                f"{MEMBERS[3]}")
    assert reason == expected
    [record] = log.drain()
    assert (record.function, record.outcome) == ("handle_view_change", "rejected")
    assert record.error == f"QuorumUnreachable: {expected}"
    assert any(expected in message for message in caplog.messages)


def test_close__quorum_answered__says_nothing():
    watched, log = attendance((MEMBERS[1], MEMBERS[2]))
    assert watched.close(decided=False) is None
    assert log.drain() == []


def test_close__quorum_answered_no_observation__records_why_at_info(caplog):
    watched, log = attendance((MEMBERS[1], MEMBERS[2]), observed=0)
    with caplog.at_level(logging.INFO, logger="noderr.node.validator"):
        reason = watched.close(decided=False)

    expected = ("round 57 of SP500: 0 oracle observations reached this validator before it "
                "opened, 1 needed to propose")
    assert reason == expected
    [record] = log.drain()
    assert (record.function, record.outcome) == ("handle_view_change", "rejected")
    assert record.error == f"NoObservations: {expected}"
    [logged] = [entry for entry in caplog.records if expected in entry.getMessage()]
    assert logged.levelno == logging.INFO


def test_close__quorum_unreachable_and_no_observation__the_quorum_is_the_reason():
    watched, log = attendance((), observed=0)
    assert "1 of 4 validators answer" in watched.close(decided=False)
    [record] = log.drain()
    assert record.error.startswith("QuorumUnreachable: ")


def test_close__decided_without_observations_here__says_nothing():
    watched, log = attendance((MEMBERS[1], MEMBERS[2]), observed=0)
    assert watched.close(decided=True) is None
    assert log.drain() == []


def test_close__decided__says_nothing():
    watched, log = attendance(())
    assert watched.close(decided=True) is None
    assert log.drain() == []


def test_close__twice__one_record():
    watched, log = attendance(())
    watched.close(decided=False)
    assert watched.close(decided=False) is None
    assert len(log.drain()) == 1


def test_close__non_member_heard__does_not_count():
    watched, _ = attendance(("0x" + "9" * 40, MEMBERS[1]))
    assert "2 of 4 validators answer" in watched.close(decided=False)


def test_consensus_quorum__is_the_chains_two_thirds_plus_one():
    assert [consensus_quorum(n) for n in (1, 3, 4, 5, 7, 10)] == [1, 3, 3, 4, 5, 7]
    assert all(consensus_quorum(n) == n * 2 // 3 + 1 for n in (1, 3, 4, 7, 10))
