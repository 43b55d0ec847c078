"""The node's standing from the backend's watch answer: run, pause, or stop for good."""

from __future__ import annotations

from client.models import HeldLicense, LicenseWatch
from node.runtime.standing import Standing, choose_license, judge, refusal
from noderr.domain import NodeType

ME = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def watch(*licenses: tuple[int, int, str], block: int = 7) -> LicenseWatch:
    return LicenseWatch(address=ME, indexed_block=block, licenses=[
        HeldLicense(token_id=token, node_type=node_type, status=status)
        for token, node_type, status in licenses])


def test_choose_license__several__lowest_active_of_the_type():
    answer = watch((9, 1, "active"), (4, 1, "suspended"), (6, 1, "active"), (2, 2, "active"))
    assert choose_license(answer, NodeType.ORACLE).token_id == 6


def test_choose_license__only_other_types_or_suspended__none():
    assert choose_license(watch((2, 2, "active"), (4, 1, "suspended")), NodeType.ORACLE) is None


def test_refusal__no_license__names_address_and_type():
    assert refusal(watch(), NodeType.VALIDATOR) == (
        f"{ME} holds no Validator license; the node does not activate")


def test_refusal__suspended_license__names_the_token_and_status():
    line = refusal(watch((4, 1, "suspended")), NodeType.ORACLE)
    assert line.startswith(f"{ME} holds no active Oracle license") and "#4 (suspended)" in line


def test_judge__active__runs():
    verdict = judge(watch((4, 1, "active"), block=12), 4, NodeType.ORACLE)
    assert (verdict.standing, verdict.indexed_block) == (Standing.ACTIVE, 12)


def test_judge__suspended__pauses():
    assert judge(watch((4, 1, "suspended")), 4, NodeType.ORACLE).standing is Standing.SUSPENDED


def test_judge__token_absent__gone_for_good():
    verdict = judge(watch((5, 1, "active")), 4, NodeType.ORACLE)
    assert verdict.standing is Standing.GONE
    assert "#4 is no longer held" in verdict.reason


def test_judge__same_token_other_type__gone():
    assert judge(watch((4, 2, "active")), 4, NodeType.ORACLE).standing is Standing.GONE
