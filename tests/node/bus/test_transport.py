"""The Bus over a real nats-server: verified messages reach handlers, nothing else does."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from prometheus_client import CollectorRegistry

from node.bus.envelope import Signer, decode, encode
from node.bus.membership import Membership
from node.bus.transport import Bus, dropped_counter
from node.bus.verify import Message, Verifier
from noderr.domain import NodeType
from tests.node.bus.helpers import (
    GUARDIAN_KEY,
    OBSERVATIONS,
    ORACLE_KEY,
    OUTSIDER_KEY,
    Inbox,
    connect,
    receive_raw,
    signer,
)

Frames = list[tuple[str, bytes]]


def forged(_: Signer) -> Frames:
    """Signed by a key of no license, claiming to be the licensed oracle."""
    oracle, impostor = signer(ORACLE_KEY, NodeType.ORACLE), signer(OUTSIDER_KEY, NodeType.ORACLE)
    frame = decode(impostor.seal(OBSERVATIONS, b"{}"))
    return [(OBSERVATIONS, encode(replace(frame, envelope=replace(
        frame.envelope, sender=oracle.address_bytes))))]


def replayed(oracle: Signer) -> Frames:
    data = oracle.seal(OBSERVATIONS, b'{"value":"1"}')
    return [(OBSERVATIONS, data), (OBSERVATIONS, data)]


def unlicensed(_: Signer) -> Frames:
    return [(OBSERVATIONS, signer(OUTSIDER_KEY, NodeType.ORACLE).seal(OBSERVATIONS, b"{}"))]


def wrong_type_subject(_: Signer) -> Frames:
    return [(OBSERVATIONS, signer(GUARDIAN_KEY, NodeType.GUARDIAN).seal(OBSERVATIONS, b"{}"))]


def wrong_type_claimed(_: Signer) -> Frames:
    return [(OBSERVATIONS, signer(GUARDIAN_KEY, NodeType.ORACLE).seal(OBSERVATIONS, b"{}"))]


def malformed(_: Signer) -> Frames:
    return [(OBSERVATIONS, b'{"value":"1"}'), (OBSERVATIONS, b"")]


def subject_mismatch(oracle: Signer) -> Frames:
    return [(OBSERVATIONS, oracle.seal("noderr.oracle.observations.NDX", b"{}"))]


def stale(_: Signer) -> Frames:
    late = signer(ORACLE_KEY, NodeType.ORACLE, clock=lambda: time.time() - 120)
    return [(OBSERVATIONS, late.seal(OBSERVATIONS, b"{}"))]


@pytest.mark.parametrize(("frames", "reason", "count", "delivered"), [
    (forged, "bad_signature", 1, 0),
    (replayed, "replayed", 1, 1),
    (unlicensed, "unlicensed", 1, 0),
    (wrong_type_subject, "wrong_type", 1, 0),
    (wrong_type_claimed, "wrong_type", 1, 0),
    (malformed, "malformed", 2, 0),
    (subject_mismatch, "subject_mismatch", 1, 0),
    (stale, "stale", 1, 0),
], ids=lambda value: getattr(value, "__name__", None))
def test_subscribe__invalid_message__dropped_counted_never_handled(
        nats_url: str, verifier: Verifier, oracle: Signer, caplog: pytest.LogCaptureFixture,
        frames: Callable[[Signer], Frames], reason: str, count: int, delivered: int):
    caplog.set_level(logging.WARNING, "noderr.node.bus")
    registry = CollectorRegistry()
    receiver, messages = asyncio.run(receive_raw(nats_url, verifier, frames(oracle), registry))

    assert len(messages) == delivered
    assert receiver.dropped == {reason: count}
    assert registry.get_sample_value("noderr_bus_dropped_total", {"reason": reason}) == count
    drops = [record.getMessage() for record in caplog.records if "dropped" in record.msg]
    assert len(drops) == count and all(drop.endswith(reason) for drop in drops)


def test_publish__licensed_oracle__delivered_verified(nats_url: str, verifier: Verifier,
                                                       oracle: Signer, validator: Signer):
    async def scenario() -> list[Message]:
        sender, receiver = await connect(nats_url, oracle, verifier), \
            await connect(nats_url, validator, verifier)
        inbox = Inbox()
        await receiver.subscribe("noderr.oracle.>", inbox.handle)
        await receiver.flush()
        await sender.publish(OBSERVATIONS, {"feed": "SP500", "value": "4500.25"})
        await sender.publish(OBSERVATIONS, {"feed": "SP500", "value": "4501.00"})
        messages = await inbox.wait_for(2, sender, receiver)
        await sender.close()
        await receiver.close()
        return messages

    first, second = asyncio.run(scenario())

    assert first.sender == oracle.address and first.node_type is NodeType.ORACLE
    assert first.payload == {"feed": "SP500", "value": "4500.25"}
    assert second.sequence == first.sequence + 1


def test_subscribe__membership_update_removes_sender__next_message_unlicensed(
        nats_url: str, verifier: Verifier, membership: Membership, oracle: Signer,
        validator: Signer):
    async def scenario() -> tuple[Bus, list[Message]]:
        sender, receiver = await connect(nats_url, oracle, verifier), \
            await connect(nats_url, validator, verifier)
        inbox = Inbox()
        await receiver.subscribe("noderr.>", inbox.handle)
        await receiver.flush()
        await sender.publish(OBSERVATIONS, {"round": 1})
        await inbox.wait_for(1, sender, receiver)
        membership.update(membership.block + 1, [(validator.address, NodeType.VALIDATOR, 3)])
        await sender.publish(OBSERVATIONS, {"round": 2})
        await sender.flush()
        await validator_says_done(receiver, inbox)
        await sender.close()
        await receiver.close()
        return receiver, inbox.messages

    receiver, messages = asyncio.run(scenario())

    assert [message.payload for message in messages[:-1]] == [{"round": 1}]
    assert receiver.dropped == {"unlicensed": 1}


async def validator_says_done(receiver: Bus, inbox: Inbox) -> None:
    """A message of the receiver's own after the sender's: NATS delivers it last."""
    before = len(inbox.messages)
    await receiver.publish("noderr.validator.done", {})
    await inbox.wait_for(before + 1)


def test_subscribe__two_overlapping_subscriptions__each_gets_the_message(
        nats_url: str, verifier: Verifier, oracle: Signer, validator: Signer):
    async def scenario() -> tuple[Bus, list[Message], list[Message]]:
        sender, receiver = await connect(nats_url, oracle, verifier), \
            await connect(nats_url, validator, verifier)
        everything, oracles = Inbox(), Inbox()
        await receiver.subscribe("noderr.>", everything.handle)
        await receiver.subscribe("noderr.oracle.>", oracles.handle)
        await receiver.flush()
        await sender.publish(OBSERVATIONS, {"round": 1})
        await asyncio.gather(everything.wait_for(1), oracles.wait_for(1))
        await sender.close()
        await receiver.close()
        return receiver, everything.messages, oracles.messages

    receiver, everything, oracles = asyncio.run(scenario())

    assert everything == oracles and len(everything) == 1
    assert not receiver.dropped


def test_subscribe__handler_raises__logged_and_later_messages_handled(
        nats_url: str, verifier: Verifier, oracle: Signer, validator: Signer,
        caplog: pytest.LogCaptureFixture):
    async def scenario() -> list[Message]:
        sender, receiver = await connect(nats_url, oracle, verifier), \
            await connect(nats_url, validator, verifier)
        inbox = Inbox()

        async def fails_on_first(message: Message) -> None:
            if message.payload["round"] == 1:
                raise RuntimeError("handler bug")
            await inbox.handle(message)

        await receiver.subscribe("noderr.oracle.>", fails_on_first)
        await receiver.flush()
        await sender.publish(OBSERVATIONS, {"round": 1})
        await sender.publish(OBSERVATIONS, {"round": 2})
        messages = await inbox.wait_for(1)
        await sender.close()
        await receiver.close()
        return messages

    messages = asyncio.run(scenario())

    assert [message.payload for message in messages] == [{"round": 2}]
    assert any("handler" in record.getMessage() and record.exc_info
               for record in caplog.records)


def test_publish__subject_of_another_type__refused_before_sending(
        nats_url: str, verifier: Verifier, guardian: Signer):
    async def scenario() -> None:
        bus = await connect(nats_url, guardian, verifier)
        try:
            await bus.publish(OBSERVATIONS, {})
        finally:
            await bus.close()

    with pytest.raises(ValueError, match="Guardian node may not publish"):
        asyncio.run(scenario())


def test_connect__after_close__not_connected(nats_url: str, verifier: Verifier,
                                             oracle: Signer):
    async def scenario() -> tuple[bool, bool]:
        bus = await connect(nats_url, oracle, verifier)
        before = bus.connected
        await bus.close()
        return before, bus.connected

    assert asyncio.run(scenario()) == (True, False)


def test_dropped_counter__two_buses_one_registry__registered_once():
    registry = CollectorRegistry()

    assert dropped_counter(registry) is dropped_counter(registry)
    assert registry.get_sample_value("noderr_bus_dropped_total", {"reason": "replayed"}) == 0
