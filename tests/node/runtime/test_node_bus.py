"""A running node on the real bus: what it receives is trusted only when signed by a key that
holds the right license now; everything else is dropped and logged with its reason. The bus
restarting under it costs nothing: it reconnects and its heartbeat state survives."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import nats
from eth_account import Account

from node.bus.envelope import Domain, Signer, decode, encode
from node.bus.heartbeats import BUCKET, key_of
from node.bus.server import NatsServer
from noderr.domain import NodeType
from noderr.ports import free_port
from noderr.settings import LOCAL_CHAIN_ID
from tests.node.runtime.conftest import Network

SUBJECT = "noderr.oracle.observations.SP500"
GENESIS_VALIDATOR_ACCOUNT = 9


def signer(account, node_type: NodeType) -> Signer:
    return Signer(bytes(account.key), node_type, Domain(LOCAL_CHAIN_ID))


async def publish(url: str, frames: list[bytes]) -> None:
    connection = await nats.connect(url)
    try:
        for frame in frames:
            await connection.publish(SUBJECT, frame)
        await connection.flush()
    finally:
        await connection.close()


def drop_line(node, reason: str, sender: str, after: int = 0) -> int:
    index, _ = node.wait_for(rf"bus dropped a message on {SUBJECT} from {sender}: {reason}$",
                             timeout=15, after=after)
    return index


def test_bus__forged_replayed_unlicensed_wrong_type_malformed__dropped_with_reason(
        network: Network):
    validator = network.start_node(NodeType.VALIDATOR, GENESIS_VALIDATOR_ACCOUNT)
    validator.wait_for(r"Validator license #1 active .* node activated")
    oracle, guardian, stranger = Account.create(), Account.create(), Account.create()
    network.ops.mint(oracle.address, NodeType.ORACLE)
    network.ops.mint(guardian.address, NodeType.GUARDIAN)
    as_oracle, as_guardian = signer(oracle, NodeType.ORACLE), signer(guardian, NodeType.GUARDIAN)
    url = network.services.bus_url

    def until_the_validator_knows_the_guardian() -> int:
        frame = as_guardian.seal(SUBJECT, b'{"value": "1"}')
        asyncio.run(publish(url, [frame]))
        return any(f"from {guardian.address}: wrong_type" in line for _, line in validator.lines)
    network.wait_until(until_the_validator_knows_the_guardian, "the mint in the membership")

    impostor = decode(signer(stranger, NodeType.ORACLE).seal(SUBJECT, b"{}"))
    forged = encode(replace(impostor, envelope=replace(impostor.envelope,
                                                       sender=as_oracle.address_bytes)))
    genuine = as_oracle.seal(SUBJECT, b'{"value": "2"}')
    asyncio.run(publish(url, [forged, genuine, genuine, b"\x01not a frame",
                              signer(stranger, NodeType.ORACLE).seal(SUBJECT, b"{}")]))
    drop_line(validator, "bad_signature", oracle.address)
    drop_line(validator, "replayed", oracle.address)
    drop_line(validator, "malformed", "unknown sender")
    drop_line(validator, "unlicensed", stranger.address)
    replays = [line for _, line in validator.lines if line.endswith(": replayed")]
    assert len(replays) == 1
    assert validator.process.poll() is None


async def heartbeat_revision(url: str, address: str) -> int:
    connection = await nats.connect(url)
    try:
        bucket = await connection.jetstream().key_value(BUCKET)
        return (await bucket.get(key_of(address))).revision
    finally:
        await connection.close()


async def next_observation(url: str) -> bytes:
    connection = await nats.connect(url)
    try:
        subscription = await connection.subscribe("noderr.oracle.observations.>")
        return (await subscription.next_msg(timeout=15)).data
    finally:
        await connection.close()


def test_bus_restart__running_node_reconnects_and_its_heartbeats_survive(
        network: Network, licensed, tmp_path):
    licensed(NodeType.ORACLE, 1)
    address = network.account(1)
    bus = NatsServer(f"nats://127.0.0.1:{free_port()}", tmp_path / "bus")
    bus.start()
    try:
        node = network.start_node(NodeType.ORACLE, 1, NODERR_BUS_URL=bus.url)
        node.wait_for(r"first round done")
        before = network.wait_until(lambda: asyncio.run(heartbeat_revision(bus.url, address)),
                                    "the node's heartbeat in the bucket")
        bus.stop()
        index, _ = node.wait_for(r"bus disconnected; reconnecting")
        bus.start()
        assert decode(asyncio.run(next_observation(bus.url))).envelope.sender == \
            bytes.fromhex(address[2:])
        after = network.wait_until(
            lambda: (revision := asyncio.run(heartbeat_revision(bus.url, address))) > before
            and revision, "a heartbeat after the restart, in the same bucket")
        assert after > before
        assert node.process.poll() is None
        assert not [line for _, line in node.lines[index:] if "execution paused" in line]
    finally:
        bus.stop()
