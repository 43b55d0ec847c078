from __future__ import annotations

from datetime import timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from hypothesis import given
from hypothesis import strategies as st

from node.errors import EmptyInput, InvalidParameter
from node.guardian.integrity import (
    check_clock_skew,
    check_node_heartbeats,
    verify_report_signatures,
    verify_state_consistency,
)
from node.oracle.refusals import MalformedInput
from tests.node.guardian import pandas_reference as reference
from tests.node.guardian.builders import AT, address
from tests.node.oracle.builders import PROPERTIES

SIGNERS = [address(number) for number in range(1, 5)]  # n = 4 tolerates f = 1


@pytest.mark.parametrize(("recovered", "threshold", "valid", "counted"), [
    (SIGNERS[:3], "2f+1", True, 3),
    (SIGNERS[:2], "2f+1", False, 2),
    (SIGNERS[:2], "f+1", True, 2),
    ([SIGNERS[0], SIGNERS[0].upper().replace("0X", "0x"), SIGNERS[1]], "2f+1", False, 2),
    ([SIGNERS[0], SIGNERS[1], address(99)], "2f+1", False, 2),
])
def test_signatures__distinct_authorised_signers_against_the_threshold(recovered, threshold,
                                                                      valid, counted) -> None:
    result = verify_report_signatures(recovered, SIGNERS, f=1, threshold=threshold)
    assert (result.valid, result.signers) == (valid, counted)
    assert result.needed == (2 if threshold == "f+1" else 3)
    assert counted == reference.distinct_authorised_signers(recovered, SIGNERS)


def test_signatures__lists_unauthorised_and_repeated_signers() -> None:
    result = verify_report_signatures([SIGNERS[0], address(99), SIGNERS[0]], SIGNERS, f=1)
    assert (result.unauthorised, result.duplicates) == ((address(99),), (SIGNERS[0],))


def test_signatures__addresses_recovered_from_real_signatures() -> None:
    accounts = [Account.from_key(bytes([number]) * 32) for number in range(1, 5)]
    message = encode_defunct(text="report 42: SP500 2712.5")
    recovered = [Account.recover_message(message, signature=account.sign_message(
        message).signature) for account in accounts[:3]]
    result = verify_report_signatures(recovered, [account.address for account in accounts], f=1)
    assert result.valid and result.signers == 3


def test_signatures__refuses_bad_input() -> None:
    with pytest.raises(EmptyInput):
        verify_report_signatures(SIGNERS, SIGNERS[:3], f=1)
    with pytest.raises(InvalidParameter):
        verify_report_signatures(SIGNERS, SIGNERS, f=-1)
    with pytest.raises(InvalidParameter):
        verify_report_signatures(SIGNERS, SIGNERS, f=1, threshold="3f+1")  # type: ignore[arg-type]
    with pytest.raises(MalformedInput):
        verify_report_signatures(["signer"], SIGNERS, f=1)


H1, H2, H3 = "ab" * 32, "cd" * 32, "ef" * 32


def test_state__majority_and_dissenters() -> None:
    result = verify_state_consistency({"n1": H1, "n2": "0x" + H1.upper(), "n3": H2, "n4": H1})
    assert (result.consistent, result.majority_hash, result.agreeing) == (False, H1, 3)
    assert result.dissenters == ("n3",)


def test_state__all_agree_is_consistent() -> None:
    result = verify_state_consistency({"n1": H1, "n2": H1})
    assert (result.consistent, result.dissenters) == (True, ())


def test_state__no_majority_every_peer_dissents() -> None:
    result = verify_state_consistency({"n1": H1, "n2": H2, "n3": H3, "n4": H1})
    assert (result.majority_hash, result.needed) == (None, 3)
    assert result.dissenters == ("n1", "n2", "n3", "n4")
    assert verify_state_consistency({"n1": H1, "n2": H2, "n3": H3, "n4": H1},
                                    needed=2).majority_hash == H1


@PROPERTIES
@given(st.dictionaries(st.text(min_size=1, max_size=4), st.sampled_from([H1, H2, H3]),
                       min_size=1, max_size=12))
def test_state__matches_pandas_value_counts(snapshots) -> None:
    result = verify_state_consistency(snapshots)
    majority, dissenters = reference.state_majority(snapshots)
    assert result.majority_hash == majority
    assert list(result.dissenters) == dissenters


def test_state__refuses_bad_input() -> None:
    with pytest.raises(EmptyInput):
        verify_state_consistency({})
    with pytest.raises(MalformedInput):
        verify_state_consistency({"n1": "abc"})
    with pytest.raises(InvalidParameter):
        verify_state_consistency({"n1": H1}, needed=2)


def test_heartbeats__missing_stale_and_alive() -> None:
    last_seen = {"n1": AT - timedelta(seconds=5), "n2": AT - timedelta(seconds=31),
                 "n3": AT + timedelta(seconds=2), "stranger": AT}
    expected = ["n1", "n2", "n3", "n4"]
    result = check_node_heartbeats(last_seen, expected, AT, timedelta(seconds=30))
    assert not result.healthy
    assert (result.alive, result.missing) == (("n1", "n3"), ("n4",))
    assert result.stale == (("n2", timedelta(seconds=31)),)
    missing, stale = reference.heartbeats(last_seen, expected, AT, timedelta(seconds=30))
    assert (list(result.missing), [node for node, _ in result.stale]) == (missing, stale)
    assert check_node_heartbeats(last_seen, ["n1"], AT, timedelta(seconds=30)).healthy


def test_heartbeats__refuses_bad_input() -> None:
    with pytest.raises(InvalidParameter):
        check_node_heartbeats({}, [], AT, timedelta(0))
    with pytest.raises(InvalidParameter):
        check_node_heartbeats({"n1": AT.replace(tzinfo=None)}, ["n1"], AT, timedelta(seconds=1))


def test_clock_skew__against_the_peer_median() -> None:
    peers = [AT + timedelta(seconds=offset) for offset in (-1, 0, 2, 9)]  # median +1 s
    local = AT + timedelta(seconds=3)
    result = check_clock_skew(local, peers, timedelta(seconds=1))
    assert (result.within, result.to_peers) == (False, timedelta(seconds=2))
    assert result.to_peers == reference.clock_skew(local, peers)
    assert check_clock_skew(local, peers, timedelta(seconds=2)).within


@pytest.mark.parametrize(("block_offset", "within"), [
    (0, True), (-13, True), (-15, False), (3, False), (1, True),
])
def test_clock_skew__against_the_block_time(block_offset, within) -> None:
    # limit 2 s, interval 12 s: local may be 2 s behind the block or 14 s ahead of it
    result = check_clock_skew(AT, [AT], timedelta(seconds=2),
                              block_time=AT + timedelta(seconds=block_offset))
    assert result.within == within
    assert result.to_block == timedelta(seconds=-block_offset)


def test_clock_skew__refuses_bad_input() -> None:
    with pytest.raises(EmptyInput):
        check_clock_skew(AT, [], timedelta(seconds=1))
    with pytest.raises(InvalidParameter):
        check_clock_skew(AT, [AT], timedelta(0))
    with pytest.raises(InvalidParameter):
        check_clock_skew(AT.replace(tzinfo=None), [AT], timedelta(seconds=1))
