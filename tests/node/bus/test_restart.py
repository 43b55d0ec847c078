"""NATS restarted under running buses: they reconnect, and the heartbeat state survives."""

from __future__ import annotations

import asyncio

from node.bus.envelope import Signer
from node.bus.heartbeats import Heartbeat, Heartbeats
from node.bus.server import NatsServer
from node.bus.verify import Message, Verifier
from tests.node.bus.helpers import OBSERVATIONS, Inbox, connect, eventually


def test_server_restart__same_port_and_store__bus_reconnects_and_heartbeats_survive(
        own_server: NatsServer, verifier: Verifier, oracle: Signer, validator: Signer):
    async def scenario() -> tuple[list[Heartbeat], list[Message], bool]:
        sender = await connect(own_server.url, oracle, verifier)
        receiver = await connect(own_server.url, validator, verifier)
        inbox = Inbox()
        await receiver.subscribe("noderr.oracle.>", inbox.handle)
        heartbeats = await Heartbeats.open(sender, ttl_s=60)
        await heartbeats.beat(token_id=1, state="active", version="0.1.0")
        await sender.publish(OBSERVATIONS, {"round": 1})
        await inbox.wait_for(1)

        own_server.stop()
        await eventually(lambda: not sender.connected and not receiver.connected)
        was_down = not sender.connected
        own_server.start()
        await eventually(lambda: sender.connected and receiver.connected)

        await sender.publish(OBSERVATIONS, {"round": 2})
        messages = await inbox.wait_for(2)
        alive = await (await Heartbeats.open(receiver, ttl_s=60)).alive()
        await sender.close()
        await receiver.close()
        return alive, messages, was_down

    alive, messages, was_down = asyncio.run(scenario())

    assert was_down
    assert [message.payload["round"] for message in messages] == [1, 2]
    assert [beat.address for beat in alive] == [oracle.address]
