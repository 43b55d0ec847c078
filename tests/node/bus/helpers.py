"""Keys, signers and a receiving scenario shared by the bus tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import nats
from prometheus_client import CollectorRegistry

from node.bus.envelope import Domain, Signer
from node.bus.transport import Bus
from node.bus.verify import Message, Verifier
from noderr.domain import NodeType

CHAIN_ID = 31337
ORACLE_KEY = bytes([1]) * 32
GUARDIAN_KEY = bytes([2]) * 32
VALIDATOR_KEY = bytes([3]) * 32
OUTSIDER_KEY = bytes([4]) * 32
"""A key that holds no license."""
OBSERVATIONS = "noderr.oracle.observations.SP500"
DELIVERY_TIMEOUT_S = 10.0


def signer(key: bytes, node_type: NodeType, chain_id: int = CHAIN_ID,
           clock: Callable[[], float] = time.time) -> Signer:
    return Signer(key, node_type, Domain(chain_id), clock)


@dataclass
class Inbox:
    """What a subscription's handler received; `wait_for(n)` until it has n messages."""

    messages: list[Message] = field(default_factory=list)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, message: Message) -> None:
        async with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()

    async def wait_for(self, count: int, *buses: Bus) -> list[Message]:
        """The messages once there are `count`; on a timeout the error says what `buses`
        sent, received and dropped (where the missing message was lost)."""
        try:
            async with self._arrived:
                await asyncio.wait_for(self._arrived.wait_for(
                    lambda: len(self.messages) >= count), DELIVERY_TIMEOUT_S)
        except TimeoutError:
            raise AssertionError(f"{len(self.messages)} of {count} message(s) in "
                                 f"{DELIVERY_TIMEOUT_S} s; {traffic(*buses)}") from None
        return self.messages


def traffic(*buses: Bus) -> str:
    return "; ".join(
        f"{bus.signer.node_type.label} bus: connected {bus.connected}, "
        f"{bus.connection.stats['out_msgs']} out, {bus.connection.stats['in_msgs']} in, "
        f"reconnects {bus.connection.stats['reconnects']}, dropped {dict(bus.dropped)}"
        for bus in buses)


async def connect(url: str, signer_: Signer, verifier: Verifier,
                  registry: CollectorRegistry | None = None) -> Bus:
    return await Bus.connect(url, signer_, verifier, registry=registry or CollectorRegistry(),
                             reconnect_wait_s=0.1)


async def receive_raw(url: str, verifier: Verifier, frames: list[tuple[str, bytes]],
                      registry: CollectorRegistry) -> tuple[Bus, list[Message]]:
    """Publish `frames` as raw bytes from one plain NATS connection, then a valid sentinel
    from the same connection (NATS keeps one publisher's order): once the sentinel is in,
    every frame before it has been received or dropped. The messages before the sentinel."""
    sentinel = signer(VALIDATOR_KEY, NodeType.VALIDATOR)
    receiver = await connect(url, sentinel, verifier, registry)
    inbox = Inbox()
    await receiver.subscribe("noderr.>", inbox.handle)
    await receiver.flush()
    publisher = await nats.connect(url)
    try:
        for subject, data in frames:
            await publisher.publish(subject, data)
        done = "noderr.validator.sentinel"
        await publisher.publish(done, sentinel.seal(done, b"{}"))
        await publisher.flush()
        messages = await _until_sentinel(inbox, done)
    finally:
        await publisher.close()
        await receiver.close()
    return receiver, messages


async def _until_sentinel(inbox: Inbox, sentinel_subject: str) -> list[Message]:
    count = 1
    while (await inbox.wait_for(count))[-1].subject != sentinel_subject:
        count += 1
    return inbox.messages[:-1]


async def eventually(condition: Callable[[], bool], timeout_s: float = DELIVERY_TIMEOUT_S) -> None:
    """Wait until `condition()` holds (polled), or fail after `timeout_s`."""
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout_s)
