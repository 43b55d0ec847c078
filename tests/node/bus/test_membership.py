"""Membership: active licenses by holder, replaced only by a newer indexed block."""

from __future__ import annotations

import pytest

from node.bus.membership import Membership
from noderr.domain import NodeType

ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20


def test_holds__before_any_update__nobody():
    assert not Membership().holds(ALICE, NodeType.ORACLE)
    assert Membership().block == -1


def test_update__newer_block__replaces_snapshot():
    members = Membership()
    members.update(5, [(ALICE, NodeType.ORACLE, 1), (BOB, NodeType.GUARDIAN, 2)])

    assert members.update(6, [(BOB, NodeType.GUARDIAN, 2)])
    assert members.block == 6
    assert not members.holds(ALICE, NodeType.ORACLE)
    assert members.holds(BOB, NodeType.GUARDIAN)


@pytest.mark.parametrize("block", [4, 5], ids=["older", "same"])
def test_update__block_not_newer__ignored(block: int):
    members = Membership()
    members.update(5, [(ALICE, NodeType.ORACLE, 1)])

    assert not members.update(block, [])
    assert members.block == 5
    assert members.holds(ALICE, NodeType.ORACLE)


def test_holds__license_of_another_type__false():
    members = Membership()
    members.update(1, [(ALICE, NodeType.ORACLE, 1)])

    assert not members.holds(ALICE, NodeType.VALIDATOR)
    assert members.types_of(ALICE) == {NodeType.ORACLE}


def test_types_of__holder_of_two_types__both_with_their_tokens():
    members = Membership()
    members.update(1, [(ALICE, 1, 7), (ALICE, 3, 9)])

    assert members.types_of(ALICE) == {NodeType.ORACLE, NodeType.VALIDATOR}
    assert members.token_id(ALICE, NodeType.VALIDATOR) == 9
    assert members.token_id(ALICE, NodeType.GUARDIAN) is None
    assert len(members) == 1


def test_holds__address_in_any_spelling__same_holder():
    members = Membership()
    members.update(1, [(ALICE.upper().replace("0X", "0x"), NodeType.ORACLE, 1)])

    assert members.holds(ALICE, NodeType.ORACLE)
    assert members.holds(bytes.fromhex(ALICE[2:]), NodeType.ORACLE)


@pytest.mark.parametrize("address", ["a1" * 20, "0x1234", b"\x01" * 19])
def test_update__not_an_address__refused(address: str | bytes):
    with pytest.raises(ValueError):
        Membership().update(1, [(address, NodeType.ORACLE, 1)])


def test_update__unknown_node_type__refused():
    with pytest.raises(ValueError):
        Membership().update(1, [(ALICE, 9, 1)])


def test_holders__by_type__ascending_addresses_of_that_type_only():
    membership = Membership()
    low, high = "0x" + "11" * 20, "0x" + "ee" * 20
    membership.update(5, [(high, NodeType.VALIDATOR, 2), (low, NodeType.VALIDATOR, 1),
                          ("0x" + "22" * 20, NodeType.ORACLE, 3)])
    assert membership.holders(NodeType.VALIDATOR) == (bytes.fromhex("11" * 20),
                                                     bytes.fromhex("ee" * 20))
    assert membership.holders(NodeType.GUARDIAN) == ()
