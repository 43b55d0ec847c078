"""The chain head behind the lag check: reused for NODERR_HEAD_CACHE_SECONDS, refreshed in the
background up to twice that, never used older; a chain that stops answering closes the gate."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from web3 import Web3

from backend.chain_client import ChainClient, ChainUnavailable
from noderr.ports import free_port
from onchain.anvil import start_anvil

TTL = 1.0
T = TypeVar("T")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("backend.chain_client.time", fake)
    return fake


@pytest.fixture
def own_anvil():
    port = free_port()
    process = start_anvil(port)
    yield process, f"http://127.0.0.1:{port}"
    process.kill()
    process.wait()


def mine(rpc_url: str, blocks: int) -> None:
    Web3(Web3.HTTPProvider(rpc_url)).provider.make_request("anvil_mine", [hex(blocks)])


async def settle(chain: ChainClient) -> None:
    if chain._refreshing is not None:
        await asyncio.gather(chain._refreshing, return_exceptions=True)


def with_chain(rpc_url: str, scenario: Callable[[ChainClient], Awaitable[T]]) -> T:
    async def run() -> T:
        chain = ChainClient(rpc_url, TTL)
        try:
            return await scenario(chain)
        finally:
            await chain.close()

    return asyncio.run(run())


def test_head__within_ttl__reused(clock, own_anvil):
    async def scenario(chain: ChainClient) -> list[int]:
        first = await chain.head()
        mine(own_anvil[1], 3)
        clock.now += TTL * 0.9
        return [first, await chain.head()]

    first, again = with_chain(own_anvil[1], scenario)
    assert again == first


def test_head__past_ttl__old_answer_now_new_one_in_background(clock, own_anvil):
    async def scenario(chain: ChainClient) -> list[int]:
        first = await chain.head()
        mine(own_anvil[1], 3)
        clock.now += TTL * 1.5
        stale = await chain.head()
        await settle(chain)
        return [first, stale, await chain.head()]

    first, stale, refreshed = with_chain(own_anvil[1], scenario)
    assert stale == first and refreshed == first + 3


def test_head__older_than_twice_ttl__read_from_chain(clock, own_anvil):
    async def scenario(chain: ChainClient) -> list[int]:
        first = await chain.head()
        mine(own_anvil[1], 2)
        clock.now += TTL * 2
        return [first, await chain.head()]

    first, read = with_chain(own_anvil[1], scenario)
    assert read == first + 2


def test_head__chain_down__cached_until_twice_ttl_then_unavailable(clock, own_anvil):
    process, rpc_url = own_anvil

    async def scenario(chain: ChainClient) -> tuple[int, int, str]:
        first = await chain.head()
        process.kill()
        process.wait()
        clock.now += TTL * 1.5
        stale = await chain.head()
        await settle(chain)  # the background read fails quietly
        clock.now += TTL * 0.6
        with pytest.raises(ChainUnavailable) as error:
            await chain.head()
        return first, stale, str(error.value)

    first, stale, error = with_chain(rpc_url, scenario)
    assert stale == first
    assert error.startswith("no JSON-RPC answer from the chain")
