"""Heartbeats in the JetStream KV bucket: signed, listed while fresh, gone after the TTL."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from nats.js.kv import KV_PURGE

from node.bus.envelope import Signer
from node.bus.heartbeats import Heartbeat, Heartbeats, key_of
from node.bus.membership import Membership
from node.bus.verify import Verifier
from noderr.domain import NodeType
from tests.node.bus.helpers import DELIVERY_TIMEOUT_S, connect

_BUCKETS = itertools.count()


def bucket() -> str:
    """A bucket of the test's own on the session server."""
    return f"heartbeats_test_{next(_BUCKETS)}"


def test_beat__licensed_node__listed_alive(nats_url: str, verifier: Verifier, oracle: Signer):
    async def scenario() -> list[Heartbeat]:
        bus = await connect(nats_url, oracle, verifier)
        heartbeats = await Heartbeats.open(bus, ttl_s=30, bucket=bucket())
        await heartbeats.beat(token_id=1, state="active", version="0.1.0")
        alive = await heartbeats.alive()
        await bus.close()
        return alive

    [beat] = asyncio.run(scenario())

    assert (beat.address, beat.node_type, beat.token_id, beat.state, beat.version) == \
        (oracle.address, NodeType.ORACLE, 1, "active", "0.1.0")


def test_alive__empty_bucket__nobody(nats_url: str, verifier: Verifier, oracle: Signer):
    async def scenario() -> list[Heartbeat]:
        bus = await connect(nats_url, oracle, verifier)
        alive = await (await Heartbeats.open(bus, ttl_s=30, bucket=bucket())).alive()
        await bus.close()
        return alive

    assert asyncio.run(scenario()) == []


def test_beat__stops__entry_expires_after_ttl(nats_url: str, verifier: Verifier,
                                              oracle: Signer):
    async def scenario() -> tuple[list[Heartbeat], list[Heartbeat]]:
        bus = await connect(nats_url, oracle, verifier)
        heartbeats = await Heartbeats.open(bus, ttl_s=1, bucket=bucket())
        await heartbeats.beat(token_id=1, state="active", version="0.1.0")
        before = await heartbeats.alive()
        await purge_marker(heartbeats, key_of(oracle.address))
        after = await heartbeats.alive()
        await bus.close()
        return before, after

    before, after = asyncio.run(scenario())

    assert [beat.address for beat in before] == [oracle.address]
    assert after == []


async def purge_marker(heartbeats: Heartbeats, key: str) -> None:
    """Wait for the marker the server leaves when `key` expires."""
    watcher = await heartbeats.kv.watch(key)
    try:
        while True:
            entry = await watcher.updates(DELIVERY_TIMEOUT_S)
            if entry is not None and entry.operation == KV_PURGE:
                return
    finally:
        await watcher.stop()


def test_alive__heartbeat_copied_under_another_key__ignored(
        nats_url: str, verifier: Verifier, oracle: Signer, guardian: Signer):
    async def scenario() -> list[Heartbeat]:
        bus = await connect(nats_url, oracle, verifier)
        heartbeats = await Heartbeats.open(bus, ttl_s=30, bucket=bucket())
        await heartbeats.beat(token_id=1, state="active", version="0.1.0")
        own = await heartbeats.kv.get(key_of(oracle.address))
        await heartbeats.kv.put(key_of(guardian.address), own.value)
        alive = await heartbeats.alive()
        await bus.close()
        return alive

    assert [beat.address for beat in asyncio.run(scenario())] == [oracle.address]


def test_alive__unsigned_value__ignored(nats_url: str, verifier: Verifier, oracle: Signer,
                                        guardian: Signer):
    async def scenario() -> list[Heartbeat]:
        bus = await connect(nats_url, oracle, verifier)
        heartbeats = await Heartbeats.open(bus, ttl_s=30, bucket=bucket())
        await heartbeats.kv.put(key_of(guardian.address), b'{"state":"active"}')
        alive = await heartbeats.alive()
        await bus.close()
        return alive

    assert asyncio.run(scenario()) == []


def test_alive__sender_license_revoked__ignored(
        nats_url: str, verifier: Verifier, membership: Membership, oracle: Signer,
        guardian: Signer):
    async def scenario() -> list[Heartbeat]:
        oracle_bus = await connect(nats_url, oracle, verifier)
        guardian_bus = await connect(nats_url, guardian, verifier)
        name = bucket()
        oracle_beats = await Heartbeats.open(oracle_bus, ttl_s=30, bucket=name)
        guardian_beats = await Heartbeats.open(guardian_bus, ttl_s=30, bucket=name)
        await oracle_beats.beat(token_id=1, state="active", version="0.1.0")
        await guardian_beats.beat(token_id=2, state="active", version="0.1.0")
        membership.update(membership.block + 1, [(guardian.address, NodeType.GUARDIAN, 2)])
        alive = await guardian_beats.alive()
        await oracle_bus.close()
        await guardian_bus.close()
        return alive

    assert [beat.address for beat in asyncio.run(scenario())] == [guardian.address]


@pytest.mark.parametrize("ttls", [(5, 5), (5, 9)], ids=["same-ttl", "other-ttl"])
def test_open__nodes_starting_at_once__all_share_one_bucket(
        nats_url: str, verifier: Verifier, oracle: Signer, guardian: Signer, validator: Signer,
        ttls: tuple[float, float]):
    async def scenario() -> set[float]:
        buses = [await connect(nats_url, node, verifier)
                 for node in (oracle, guardian, validator)]
        name = bucket()
        opened = await asyncio.gather(*(Heartbeats.open(bus, ttl_s=ttls[i % 2], bucket=name)
                                        for i, bus in enumerate(buses)))
        await opened[0].beat(token_id=1, state="active", version="0.1.0")
        seen = [len(await heartbeats.alive()) for heartbeats in opened]
        ttl_in_use = {(await heartbeats.kv.status()).ttl for heartbeats in opened}
        for bus in buses:
            await bus.close()
        assert seen == [1, 1, 1]
        return ttl_in_use

    assert len(asyncio.run(scenario())) == 1
