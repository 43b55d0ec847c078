"""The coordinator lease on a real JetStream KV: of two contenders only one holds it, the
holder renews it, and once it expires the other takes it; two contenders that read the same
expired lease cannot both take it over (the write is a compare-and-swap on the revision)."""

from __future__ import annotations

import asyncio
import itertools

import nats

from node.runtime.lease import LeaderLease, open_lease_bucket

TTL_S = 1.0
_BUCKETS = itertools.count()


async def contenders(url: str) -> tuple[list, LeaderLease, LeaderLease]:
    """Two validators, each on its own connection, claiming the same key."""
    bucket = f"leases_test_{next(_BUCKETS)}"
    connections = [await nats.connect(url) for _ in range(2)]
    first, second = [LeaderLease(await open_lease_bucket(connection.jetstream(), TTL_S, bucket),
                                 "coordinator", name, TTL_S)
                     for connection, name in zip(connections, ("A", "B"), strict=True)]
    return connections, first, second


async def close(connections: list) -> None:
    for connection in connections:
        await connection.close()


def test_acquire__two_contenders_at_once__exactly_one_holds(nats_url: str):
    async def scenario() -> tuple[list[bool], str]:
        connections, first, second = await contenders(nats_url)
        won = list(await asyncio.gather(first.acquire(), second.acquire()))
        holder = (await first.read()).lease.holder
        await close(connections)
        return won, holder

    won, holder = asyncio.run(scenario())

    assert sorted(won) == [False, True]
    assert holder == ("A" if won[0] else "B")


def test_acquire__holder_renews_then_stops__the_other_takes_over_after_ttl(nats_url: str):
    async def scenario() -> list[bool]:
        connections, first, second = await contenders(nats_url)
        steps = [await first.acquire(), await second.acquire(), await first.acquire(),
                 await second.acquire()]
        await asyncio.sleep(TTL_S * 1.5)
        steps += [await second.acquire(), await first.acquire()]
        await close(connections)
        return steps

    assert asyncio.run(scenario()) == [True, False, True, False, True, False]


def test_acquire__both_read_the_same_expired_lease__only_one_takes_it_over(nats_url: str):
    """The defence: without the revision check both stale readers would write and both
    believe they lead."""
    async def scenario() -> list[bool]:
        connections, first, second = await contenders(nats_url)
        await first.acquire(now=0.0)
        stale = await first.read()

        async def same_read():
            return stale

        first.read = second.read = same_read
        won = [await second.acquire(), await first.acquire()]
        await close(connections)
        return won

    assert asyncio.run(scenario()) == [True, False]
