from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.errors import InvalidParameter, NonFiniteInput, NonPositivePrice
from node.guardian.compliance import (
    GENESIS_HASH,
    audit_log_append,
    check_license_validity,
    detect_wash_trading,
    screen_address_denylist,
    verify_audit_log,
)
from node.guardian.decisions import LimitDecision
from node.guardian.orders import Fill
from node.oracle.refusals import MalformedInput
from noderr.domain import NodeType
from tests.node.guardian import pandas_reference as reference
from tests.node.guardian.builders import AT, address
from tests.node.oracle.builders import PROPERTIES

MEMBERSHIP = {
    "0x" + "Ab" * 20: {NodeType.GUARDIAN, NodeType.ORACLE},
    address(2): {NodeType.VALIDATOR},
    address(3): set(),  # its only license suspended: no active type
}


@pytest.mark.parametrize(("subject", "required", "allowed"), [
    ("0x" + "ab" * 20, NodeType.GUARDIAN, True),   # case-insensitive
    ("0x" + "AB" * 20, NodeType.ORACLE, True),
    ("0x" + "ab" * 20, NodeType.VALIDATOR, False),
    (address(2), NodeType.VALIDATOR, True),
    (address(3), NodeType.GUARDIAN, False),
    (address(9), NodeType.GUARDIAN, False),       # no license at all
])
def test_license__active_license_of_the_required_type(subject, required, allowed) -> None:
    result = check_license_validity(subject, required, MEMBERSHIP)
    assert (result.allowed, result.check, result.address) == (allowed, "license_validity",
                                                              subject.lower())
    assert result.allowed == reference.license_valid(subject, required, MEMBERSHIP)


def test_license__reads_the_bus_snapshot_keyed_by_address_bytes() -> None:
    membership = {bytes.fromhex(address(4)[2:]): frozenset({NodeType.GUARDIAN})}
    assert check_license_validity(address(4), NodeType.GUARDIAN, membership).allowed
    assert not check_license_validity(address(5), NodeType.GUARDIAN, membership).allowed


def test_license__accepts_codes_and_names_of_node_types() -> None:
    assert check_license_validity(address(2), 3, {address(2): ["validator"]}).allowed


@pytest.mark.parametrize(("subject", "required", "membership"), [
    ("0x1234", NodeType.GUARDIAN, MEMBERSHIP),
    (address(1), 7, MEMBERSHIP),
    (address(1), NodeType.GUARDIAN, {address(1): {9}}),
    (address(1), NodeType.GUARDIAN, {"guardian-one": {2}}),
    (address(1), NodeType.GUARDIAN, {b"short": {2}}),
])
def test_license__refuses_malformed_input(subject, required, membership) -> None:
    with pytest.raises(MalformedInput):
        check_license_validity(subject, required, membership)


def test_denylist__hits_in_order_once_each_case_insensitive() -> None:
    listed = [address(5), "0x" + "CD" * 20]
    screened = [address(1), "0x" + "cd" * 20, address(5), address(5).upper().replace("0X", "0x")]
    result = screen_address_denylist(screened, listed)
    assert (result.allowed, result.hits) == (False, ("0x" + "cd" * 20, address(5)))
    assert list(result.hits) == reference.denylist_hits(screened, listed)
    assert screen_address_denylist([address(1)], listed).allowed


def test_denylist__refuses_malformed_addresses() -> None:
    with pytest.raises(MalformedInput):
        screen_address_denylist(["0xnothex"], [])
    with pytest.raises(MalformedInput):
        screen_address_denylist([address(1)], ["bad"])


def _fill(owner: str, side: str, seconds: float, instrument: str = "SP500") -> Fill:
    return Fill(owner, instrument, side, 1.0, 100.0, AT + timedelta(seconds=seconds))  # type: ignore[arg-type]


def test_wash_trading__hand_case() -> None:
    fills = [_fill("alice", "buy", 0), _fill("bob", "sell", 1), _fill("alice", "sell", 30),
             _fill("alice", "sell", 100), _fill("alice", "buy", 5, "GOOG"),
             _fill("carol", "sell", 0), _fill("carol", "buy", 59)]
    result = detect_wash_trading(fills, timedelta(minutes=1))
    assert result.suspicious
    assert [(pair.owner, pair.buy, pair.sell, pair.gap) for pair in result.pairs] == [
        ("alice", 0, 2, timedelta(seconds=30)), ("carol", 6, 5, timedelta(seconds=59))]
    assert result.owners == ("alice", "carol")


owners = st.sampled_from(["alice", "bob"])
fills_strategy = st.lists(st.tuples(owners, st.sampled_from(["buy", "sell"]),
                                    st.integers(0, 600), st.sampled_from(["SP500", "GOOG"])),
                          min_size=1, max_size=40)


@PROPERTIES
@given(fills_strategy, st.integers(1, 120))
def test_wash_trading__matches_a_pandas_merge(rows, window_seconds) -> None:
    fills = [_fill(owner, side, seconds, instrument)
             for owner, side, seconds, instrument in rows]
    window = timedelta(seconds=window_seconds)
    result = detect_wash_trading(fills, window)
    assert [(pair.buy, pair.sell) for pair in result.pairs] == reference.wash_pairs(fills, window)
    assert result.suspicious == bool(result.pairs)


def test_wash_trading__refuses_bad_input() -> None:
    with pytest.raises(InvalidParameter):
        detect_wash_trading([], timedelta(0))
    with pytest.raises(MalformedInput):
        detect_wash_trading([_fill("a", "hold", 0)], timedelta(seconds=1))
    with pytest.raises(NonPositivePrice):
        detect_wash_trading([dataclasses.replace(_fill("a", "buy", 0), price=0.0)],
                            timedelta(seconds=1))
    with pytest.raises(InvalidParameter):
        detect_wash_trading([dataclasses.replace(_fill("a", "buy", 0), at=AT.replace(tzinfo=None))],
                            timedelta(seconds=1))


def _chain(count: int) -> list:
    entries, previous = [], None
    for index in range(count):
        previous = audit_log_append(previous, {"check": "order_notional", "allowed": index % 2 == 0,
                                               "value": 1000.0 + index, "limit": 1500.0},
                                    AT + timedelta(seconds=index))
        entries.append(previous)
    return entries


def test_audit_log__first_entry_hash_by_hand() -> None:
    decision = {"check": "position", "allowed": False, "value": 12.0, "limit": 10.0}
    entry = audit_log_append(None, decision, AT)
    text = '{"allowed":false,"check":"position","limit":10.0,"value":12.0}'
    body = json.dumps([0, AT.isoformat(), text, GENESIS_HASH], separators=(",", ":"))
    assert entry.decision == text
    assert entry.hash == hashlib.sha256(body.encode()).hexdigest()
    assert entry.hash == reference.audit_hash(0, AT, decision, GENESIS_HASH)


def test_audit_log__records_decision_dataclasses() -> None:
    decision = LimitDecision(False, "order_rate", 0.5, 1.0, "no token")
    entry = audit_log_append(None, decision, AT)
    assert json.loads(entry.decision)["check"] == "order_rate"


def test_audit_log__chain_verifies() -> None:
    entries = _chain(6)
    assert [entry.index for entry in entries] == list(range(6))
    assert all(later.previous_hash == earlier.hash
               for earlier, later in itertools.pairwise(entries))
    assert verify_audit_log(entries).valid


@PROPERTIES
@given(st.integers(0, 7), st.sampled_from(["index", "at", "decision", "previous_hash", "hash"]))
def test_audit_log__altering_any_entry_breaks_the_chain_there(position, field) -> None:
    entries = _chain(8)
    original = getattr(entries[position], field)
    altered = original + 1 if field == "index" else original[:-1] + (
        "0" if original[-1] != "0" else "1")
    entries[position] = dataclasses.replace(entries[position], **{field: altered})
    verification = verify_audit_log(entries)
    assert (verification.valid, verification.first_broken) == (False, position)


def test_audit_log__removing_or_swapping_entries_breaks_it() -> None:
    entries = _chain(5)
    assert verify_audit_log(entries[:2] + entries[3:]).first_broken == 2
    assert verify_audit_log([entries[1], entries[0], *entries[2:]]).first_broken == 0


def test_audit_log__refuses_bad_decisions() -> None:
    with pytest.raises(NonFiniteInput):
        audit_log_append(None, {"value": math.nan}, AT)
    with pytest.raises(MalformedInput):
        audit_log_append(None, {"value": object()}, AT)
    with pytest.raises(InvalidParameter):
        audit_log_append(None, {"value": 1}, AT.replace(tzinfo=None))
