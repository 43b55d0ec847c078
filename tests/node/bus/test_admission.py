"""A subscription's per-sender budget: a flooding sender's excess is dropped as `flooding`,
another sender keeps its own budget, tokens come back with time, and only the sender's own
fresh signatures spend them. Drop lines: one per sender and reason per period."""

from __future__ import annotations

from dataclasses import replace

import pytest

from node.bus.admission import Admission, SenderBudget
from node.bus.envelope import Signer, decode, encode
from node.bus.membership import Membership
from node.bus.transport import DropLines
from node.bus.verify import Dropped, DropReason, Message, ReplayGuard, Verifier
from noderr.domain import NodeType
from tests.node.bus.helpers import signer

CONSENSUS = "noderr.validator.consensus.SP500"
LIAR_KEY = bytes([6]) * 32
BURST = 5
RATE = 2.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def message(sender: str, sequence: int = 1) -> Message:
    return Message(sender, NodeType.VALIDATOR, sequence, 0, CONSENSUS, {})


def admitted(budget: SenderBudget, sender: str, count: int) -> int:
    passed = 0
    for sequence in range(count):
        try:
            budget.admit(message(sender, sequence))
            passed += 1
        except Dropped as drop:
            assert drop.reason is DropReason.FLOODING and drop.sender == sender
    return passed


def test_budget__flood_from_one_sender__dropped_past_the_burst(validator: Signer):
    budget = SenderBudget(RATE, BURST, Clock())
    assert admitted(budget, validator.address, 1_000) == BURST


def test_budget__one_sender_flooding__another_sender_unaffected(validator: Signer,
                                                                 oracle: Signer):
    budget = SenderBudget(RATE, BURST, Clock())
    admitted(budget, validator.address, 1_000)
    assert admitted(budget, oracle.address, BURST) == BURST


def test_budget__after_a_pause__refilled_at_the_rate_up_to_the_burst(validator: Signer):
    clock = Clock()
    budget = SenderBudget(RATE, BURST, clock)
    admitted(budget, validator.address, BURST)
    clock.now += 1.0
    assert admitted(budget, validator.address, BURST) == RATE
    clock.now += 3_600.0
    assert admitted(budget, validator.address, 1_000) == BURST


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 5), (1.0, 0)])
def test_budget__not_positive__refused(rate: float, burst: int):
    with pytest.raises(ValueError, match="rate_per_s"):
        SenderBudget(rate, burst)


def forged_as(honest: Signer, impostor: Signer) -> bytes:
    """A frame signed by `impostor`, its envelope naming `honest` as sender."""
    frame = decode(impostor.seal(CONSENSUS, b"{}"))
    return encode(replace(frame, envelope=replace(frame.envelope,
                                                  sender=honest.address_bytes)))


def drop_reason(admission: Admission, data: bytes) -> DropReason | None:
    try:
        admission.admit(CONSENSUS, data)
    except Dropped as drop:
        return drop.reason
    return None


def test_admission__forged_replayed_or_claimed_in_the_payload__honest_budget_untouched(
        verifier: Verifier, membership: Membership, validator: Signer):
    """Frames naming the honest validator that are not its fresh signatures (forged by another
    licensed validator, or its own frame replayed) are dropped before the budget, and a
    payload naming it as author spends its signer's tokens: the honest validator still has
    its whole burst."""
    liar = signer(LIAR_KEY, NodeType.VALIDATOR)
    membership.update(membership.block + 1, [(validator.address, NodeType.VALIDATOR, 3),
                                             (liar.address, NodeType.VALIDATOR, 4)])
    admission = Admission(verifier, ReplayGuard(verifier.window_ms),
                          SenderBudget(RATE, BURST, Clock()))
    first = validator.seal(CONSENSUS, b"{}")
    claimed = b'{"type": "prepare", "body": {"sender": "%s"}}' % validator.address.encode()

    forged = {drop_reason(admission, forged_as(validator, liar)) for _ in range(100)}
    replayed = {drop_reason(admission, first) for _ in range(100)}
    claiming = [drop_reason(admission, liar.seal(CONSENSUS, claimed)) for _ in range(100)]
    honest = [drop_reason(admission, validator.seal(CONSENSUS, b"{}")) for _ in range(BURST)]

    assert forged == {DropReason.BAD_SIGNATURE}
    assert replayed == {None, DropReason.REPLAYED}
    assert claiming.count(None) == BURST and set(claiming[BURST:]) == {DropReason.FLOODING}
    assert honest == [None] * (BURST - 1) + [DropReason.FLOODING]


def test_drop_lines__flood_of_drops__a_few_lines_per_period_counting_the_rest(
        validator: Signer, oracle: Signer):
    clock = Clock()
    lines = DropLines(every_s=10.0, per_period=3, clock=clock)
    flood = [lines.due(DropReason.FLOODING, validator.address) for _ in range(1_000)]
    other = lines.due(DropReason.FLOODING, oracle.address)
    clock.now += 10.0
    later = lines.due(DropReason.FLOODING, validator.address)

    assert flood[:3] == [0, 0, 0] and flood[3:] == [None] * 997
    assert other == 0
    assert later == 997


def test_drop_lines__many_senders__bounded(validator: Signer):
    lines = DropLines(every_s=10.0, max_keys=8, clock=Clock())
    for index in range(100):
        lines.due(DropReason.BAD_SIGNATURE, f"0x{index:040x}")
    assert len(lines) <= 8


def test_admission__sender_spent__next_frames_dropped_before_their_signature(
        verifier: Verifier, membership: Membership, validator: Signer):
    """A flooding sender's excess costs no signature recovery: once its tokens are spent, even
    a frame forged in its name is dropped as flooding; a frame forged in the name of a sender
    with tokens is still checked (bad_signature) and spends nothing."""
    liar = signer(LIAR_KEY, NodeType.VALIDATOR)
    membership.update(membership.block + 1, [(validator.address, NodeType.VALIDATOR, 3),
                                             (liar.address, NodeType.VALIDATOR, 4)])
    admission = Admission(verifier, ReplayGuard(verifier.window_ms),
                          SenderBudget(RATE, BURST, Clock()))

    flood = [drop_reason(admission, liar.seal(CONSENSUS, b"{}")) for _ in range(BURST + 1)]
    in_the_liars_name = drop_reason(admission, forged_as(liar, validator))
    in_the_honest_name = drop_reason(admission, forged_as(validator, liar))
    honest = [drop_reason(admission, validator.seal(CONSENSUS, b"{}")) for _ in range(BURST)]

    assert flood == [None] * BURST + [DropReason.FLOODING]
    assert in_the_liars_name is DropReason.FLOODING
    assert in_the_honest_name is DropReason.BAD_SIGNATURE
    assert honest == [None] * BURST
