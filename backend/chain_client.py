"""The API's async JSON-RPC client of the chain: the cached head for the lag check, code,
`is_active`, EIP-1271, and the raw calls the server-side minter sends."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import httpx
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

from noderr.jsonrpc import request_body

EIP1271_MAGIC = bytes.fromhex("1626ba7e")
_IS_VALID_SIGNATURE = function_signature_to_4byte_selector("isValidSignature(bytes32,bytes)")
_IS_ACTIVE = function_signature_to_4byte_selector("is_active(address,uint8)")


class ChainUnavailable(RuntimeError):
    """The chain did not answer; the message says how."""


class ChainClient:
    """An async JSON-RPC client with a short-lived cache of the head block number."""

    def __init__(self, rpc_url: str, head_cache_seconds: float = 1.0) -> None:
        self.rpc_url = rpc_url
        self._client = httpx.AsyncClient(timeout=5.0)
        self._head: tuple[float, int] | None = None
        self._head_ttl = head_cache_seconds
        self._head_lock = asyncio.Lock()
        self._refreshing: asyncio.Task | None = None

    async def call_rpc(self, method: str, params: list[Any]) -> Any:
        try:
            response = await self._client.post(self.rpc_url, json=request_body(method, params))
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ChainUnavailable(f"no JSON-RPC answer from the chain: {error}") from None
        if "error" in body:
            raise ChainUnavailable(f"JSON-RPC {method} failed: {body['error']}")
        return body["result"]

    async def head(self) -> int:
        """The chain's latest block number, read at most `head_cache_seconds` ago; or, while
        a fresher one is being read in the background, at most twice that. Older than that,
        the caller waits for the chain (and gets ChainUnavailable when it does not answer):
        no request ever waits for the periodic refresh, and none uses a head read long ago."""
        cached = self._head
        if cached is not None:
            age = time.monotonic() - cached[0]
            if age < self._head_ttl:
                return cached[1]
            if age < 2 * self._head_ttl:
                self._refresh_in_background()
                return cached[1]
        return await self._read_head()

    async def _read_head(self) -> int:
        async with self._head_lock:
            cached = self._head
            if cached and time.monotonic() - cached[0] < self._head_ttl:
                return cached[1]
            number = int(await self.call_rpc("eth_blockNumber", []), 16)
            self._head = (time.monotonic(), number)
            return number

    def _refresh_in_background(self) -> None:
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.create_task(self._refresh_quietly())

    async def _refresh_quietly(self) -> None:
        """A failure here is not an answer to anyone: once the cached head is too old,
        requests read the chain themselves and report why it fails."""
        with contextlib.suppress(ChainUnavailable):
            await self._read_head()

    async def eth_call(self, to: str, data: bytes) -> bytes:
        result = await self.call_rpc("eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"])
        return bytes.fromhex(result[2:])

    async def has_code(self, address: str) -> bool:
        return await self.call_rpc("eth_getCode", [address, "latest"]) not in ("0x", "0x0")

    async def is_valid_1271(self, wallet: str, digest: bytes, signature: bytes) -> bool:
        data = _IS_VALID_SIGNATURE + encode(["bytes32", "bytes"], [digest, signature])
        try:
            result = await self.eth_call(wallet, data)
        except ChainUnavailable:
            return False
        return result[:4] == EIP1271_MAGIC

    async def is_active(self, license_address: str, owner: str, node_type: int) -> bool:
        data = _IS_ACTIVE + encode(["address", "uint8"], [owner, node_type])
        (active,) = decode(["bool"], await self.eth_call(license_address, data))
        return bool(active)

    async def close(self) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
            await asyncio.gather(self._refreshing, return_exceptions=True)
        await self._client.aclose()
