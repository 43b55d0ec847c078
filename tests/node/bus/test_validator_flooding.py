"""A validator subscribed to a feed's consensus subject as the node subscribes (its own
ValidatorDuties over a real bus): a licensed member flooding it with freshly signed messages
reaches the handler only within its budget, the rest dropped as `flooding`; an honest member's
messages all get through. The n = 7 chaos run stalled here: two liars sent ~150 messages/s
each and every honest validator's event loop fell behind."""

from __future__ import annotations

import asyncio
from collections import Counter

from prometheus_client import CollectorRegistry

from node.bus.envelope import Signer
from node.bus.membership import Membership
from node.bus.transport import Bus
from node.bus.verify import Message, Verifier
from node.execution import ExecutionLog
from node.runtime.keys import NodeKey
from node.runtime.network import Network
from node.runtime.validator import FeedContract, ValidatorDuties
from node.settings import ValidatorSettings
from noderr.domain import NodeType
from tests.node.bus.helpers import VALIDATOR_KEY, Inbox, connect, eventually, signer

FEED = "SP500"
FLOOD = 600
HONEST = 5
BURST = 20
FLOODER_KEY = bytes([7]) * 32


def duties(bus: Bus, membership: Membership) -> ValidatorDuties:
    network = Network(bus, heartbeats=None, membership=membership, client=None,  # type: ignore[arg-type]
                      token_id=3)
    feed = FeedContract(FEED, "0x" + "ab" * 20, transmit=None,  # type: ignore[arg-type]
                        latest_round=None)  # type: ignore[arg-type]
    settings = ValidatorSettings(validator_message_rate=1e-6, validator_message_burst=BURST)
    return ValidatorDuties(network, ExecutionLog(), NodeKey(bus.signer.address, VALIDATOR_KEY),
                           {FEED: feed}, "http://127.0.0.1:1", 1.0, settings)


def test_consensus_subject__licensed_validator_flooding__excess_dropped_honest_delivered(
        nats_url: str, verifier: Verifier, membership: Membership, validator: Signer):
    flooder = signer(FLOODER_KEY, NodeType.VALIDATOR)
    honest = signer(bytes([8]) * 32, NodeType.VALIDATOR)
    membership.update(membership.block + 1, [(member.address, NodeType.VALIDATOR, token)
                                             for token, member in enumerate(
                                                 (validator, flooder, honest), start=3)])

    async def scenario() -> tuple[list[Message], Counter]:
        receiver = await connect(nats_url, validator, verifier, CollectorRegistry())
        node = duties(receiver, membership)
        inbox = Inbox()
        driver = node.drivers[FEED]
        driver.on_consensus = driver.on_signature = inbox.handle  # type: ignore[method-assign]
        await node._subscribe()
        await receiver.flush()
        senders = [await connect(nats_url, member, verifier) for member in (flooder, honest)]
        for index in range(FLOOD):
            await senders[0].publish(driver.consensus_subject, {"flood": index})
        for index in range(HONEST):
            await senders[1].publish(driver.consensus_subject, {"honest": index})
        for sender in senders:
            await sender.flush()
        await eventually(lambda: receiver.dropped["flooding"] >= FLOOD - BURST
                         and sum(message.sender == honest.address
                                 for message in inbox.messages) == HONEST)
        for bus in (*senders, receiver):
            await bus.close()
        return inbox.messages, receiver.dropped

    messages, dropped = asyncio.run(scenario())

    by_sender = Counter(message.sender for message in messages)
    assert by_sender[honest.address] == HONEST
    assert by_sender[flooder.address] == BURST
    assert dropped["flooding"] == FLOOD - by_sender[flooder.address]
