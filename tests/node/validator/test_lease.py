"""The coordinator lease on a real JetStream KV: of two contenders only one holds it, the
holder renews it, and once it expires the other takes it; two contenders that read the same
expired lease cannot both take it over (the write is a compare-and-swap on the revision); a
holder that stalls stops acting before the other takes over, so two validators renewing the
coordinator lease never both hold it."""

from __future__ import annotations

import asyncio
import itertools

import nats

from node.runtime.lease import Coordination, LeaderLease, open_lease_bucket

TTL_S = 1.0
MARGIN_S = 0.2
_BUCKETS = itertools.count()


async def contenders(url: str) -> tuple[list, LeaderLease, LeaderLease]:
    """Two validators, each on its own connection, claiming the same key."""
    bucket = f"leases_test_{next(_BUCKETS)}"
    connections = [await nats.connect(url) for _ in range(2)]
    first, second = [LeaderLease(await open_lease_bucket(connection.jetstream(), TTL_S, bucket),
                                 "coordinator", name, TTL_S, MARGIN_S)
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


def test_holds__holder_stalls__stops_before_the_other_takes_over(nats_url: str):
    """The defence: a stalled holder's last acquire still says it won; only the time bound
    keeps it from acting beside the validator that took over."""
    async def scenario() -> tuple[bool, list[tuple[bool, bool]]]:
        connections, first, second = await contenders(nats_url)
        won = await first.acquire()
        samples = []
        while not await second.acquire():
            samples.append((first.holds(), second.holds()))
            await asyncio.sleep(0.05)
        samples.append((first.holds(), second.holds()))
        await close(connections)
        return won, samples

    won, samples = asyncio.run(scenario())

    assert won and samples[0] == (True, False) and samples[-1] == (False, True)
    assert not any(both for both in map(all, samples))


def test_coordination__two_validators_renewing_one_stalling__never_both_hold(nats_url: str):
    bucket = f"leases_test_{next(_BUCKETS)}"

    async def scenario() -> list[tuple[bool, bool]]:
        connections = [await nats.connect(nats_url) for _ in range(2)]
        first, second = [Coordination(connection.jetstream, name, TTL_S, bucket=bucket,
                                      margin_s=MARGIN_S)
                         for connection, name in zip(connections, ("A", "B"), strict=True)]
        samples = []
        for step in range(60):
            renewing = [first] if step == 0 else [second] if 15 <= step < 45 else [first, second]
            await asyncio.gather(*(coordination.renew() for coordination in renewing))
            samples.append((first.holds(), second.holds()))
            await asyncio.sleep(0.05)
        await close(connections)
        return samples

    samples = asyncio.run(scenario())

    assert not any(both for both in map(all, samples))
    holders = [("A" if first else "B") for first, second in samples if first or second]
    assert holders[0] == "A" and "B" in holders, "A held first, B took over while A stalled"
