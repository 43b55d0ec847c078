"""Subjects: the family of a subject names the license a sender needs."""

from __future__ import annotations

import pytest

from node.bus import subjects
from noderr.domain import NodeType


@pytest.mark.parametrize(("name", "node_type"), [
    ("noderr.oracle.observations.SP500", NodeType.ORACLE),
    ("noderr.validator.pbft.prepare", NodeType.VALIDATOR),
    ("noderr.guardian.halt", NodeType.GUARDIAN),
])
def test_allowed_types__family_of_a_type__that_type_only(name: str, node_type: NodeType):
    assert subjects.allowed_types(name) == {node_type}


def test_allowed_types__node_family__every_type():
    assert subjects.allowed_types(subjects.ANNOUNCE) == set(NodeType)
    assert subjects.allowed_types(subjects.HEARTBEAT) == set(NodeType)


@pytest.mark.parametrize("name", [
    "noderr.oracle", "noderr.admin.mint", "other.oracle.x", "noderr.oracle.*",
    "noderr.oracle.>", "noderr..x", "noderr.oracle.a b", "", "noderr.Oracle.x",
])
def test_allowed_types__not_a_speakable_subject__nobody(name: str):
    assert subjects.allowed_types(name) == frozenset()


def test_subject__family_and_topic__joined():
    assert subjects.subject(subjects.family(NodeType.ORACLE), "observations", "SP500") \
        == "noderr.oracle.observations.SP500"


def test_subject__unknown_family__refused():
    with pytest.raises(ValueError, match=r"noderr\.admin\.mint"):
        subjects.subject("admin", "mint")
