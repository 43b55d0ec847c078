"""JSON-RPC over httpx with orjson: retries with jittered exponential backoff, batches, and a
typed "block range too large" error that carries the range a provider suggests.

web3.py's provider is not used on the hot path: its response formatting alone runs at about
12,000 logs/s on these machines, a quarter of what a raw fetch allows (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import orjson

log = logging.getLogger("noderr.indexer.rpc")

# Providers word "too many results" differently: Infura/geth "query returned more than 10000
# results. Try with this block range [0x1, 0x2]", Alchemy "Log response size exceeded ... this
# block range should work: [0x1, 0x2]", others "block range too large", "exceed maximum block
# range", "query timeout exceeded".
_RANGE_TOO_LARGE = re.compile(
    r"more than \d+ results|response size|block range|range (is )?too (large|wide|big)"
    r"|too many (results|logs|blocks)|exceed(s|ed)? (the )?max|query timeout", re.IGNORECASE)
_SUGGESTED = re.compile(r"\[\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*\]")
_RATE_LIMITED = re.compile(r"rate.?limit|too many requests|capacity|try again", re.IGNORECASE)
_RETRYABLE_HTTP = {408, 425, 429, 500, 502, 503, 504}
_FATAL_CODES = {-32600, -32601, -32602, 3}


class RpcError(RuntimeError):
    """A JSON-RPC error answer that retrying will not fix."""

    def __init__(self, method: str, code: int | None, message: str) -> None:
        super().__init__(f"{method}: {message} (code {code})")
        self.method, self.code, self.message = method, code, message


class RangeTooLarge(RpcError):
    """eth_getLogs asked for too much; `suggested` is the (from, to) the provider proposes."""

    def __init__(self, method: str, code: int | None, message: str) -> None:
        super().__init__(method, code, message)
        match = _SUGGESTED.search(message)
        self.suggested = (int(match[1], 16), int(match[2], 16)) if match else None


class RpcUnavailable(RuntimeError):
    """Every attempt failed (timeouts, resets, 429s, server errors)."""


class RpcClient:
    """A JSON-RPC client for one endpoint. Not thread-safe: one per thread."""

    def __init__(self, url: str, *, timeout: float = 30.0, attempts: int = 8,
                 base_delay: float = 0.1, max_delay: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep,
                 on_retry: Callable[[], None] | None = None) -> None:
        self.url, self.attempts = url, attempts
        self.base_delay, self.max_delay, self.sleep = base_delay, max_delay, sleep
        self.on_retry = on_retry
        self._http = httpx.Client(timeout=timeout, headers={"content-type": "application/json"})
        self._next_id = 0

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, *params: Any) -> Any:
        return self.batch([(method, list(params))])[0]

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Send `calls` as one JSON-RPC batch; results in order. Retries the whole batch."""
        if not calls:
            return []
        first = self._next_id
        self._next_id += len(calls)
        payload = [{"jsonrpc": "2.0", "id": first + i, "method": method, "params": params}
                   for i, (method, params) in enumerate(calls)]
        body = orjson.dumps(payload if len(calls) > 1 else payload[0])
        for attempt in range(self.attempts):
            try:
                return self._results(self._post(body), calls, first)
            except _Retry as reason:
                self._backoff(attempt, str(reason), calls[0][0])
        raise RpcUnavailable(f"{calls[0][0]}: no good answer from {self.url} "
                             f"after {self.attempts} attempts")

    def _post(self, body: bytes) -> Any:
        try:
            response = self._http.post(self.url, content=body)
        except httpx.TransportError as error:
            raise _Retry(f"{type(error).__name__}: {error}") from None
        if response.status_code in _RETRYABLE_HTTP:
            raise _Retry(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise RpcError("http", response.status_code, f"HTTP {response.status_code}")
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise _Retry("answer is not JSON") from None

    def _results(self, answer: Any, calls: Sequence[tuple[str, list[Any]]],
                 first: int) -> list[Any]:
        items = answer if isinstance(answer, list) else [answer]
        by_id = {item.get("id"): item for item in items if isinstance(item, dict)}
        if len(by_id) != len(calls):
            single = items[0] if len(items) == 1 and isinstance(items[0], dict) else {}
            if "error" in single:
                _raise_error(calls[0][0], single["error"])
            raise _Retry("batch answer is incomplete")
        results = []
        for offset, (method, _) in enumerate(calls):
            item = by_id.get(first + offset)
            if item is None:
                raise _Retry("batch answer is incomplete")
            if "error" in item:
                _raise_error(method, item["error"])
            results.append(item.get("result"))
        return results

    def _backoff(self, attempt: int, reason: str, method: str) -> None:
        """Full jitter: a random delay up to base·2^attempt, capped (AWS architecture blog)."""
        delay = random.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt))  # noqa: S311
        log.warning("%s failed (%s); retry %d/%d in %.2fs", method, reason, attempt + 1,
                    self.attempts, delay)
        if self.on_retry:
            self.on_retry()
        self.sleep(delay)

    # Typed helpers -----------------------------------------------------------------------

    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def headers(self, numbers: Sequence[int]) -> dict[int, dict[str, Any] | None]:
        """Block headers by number (None for a block that does not exist)."""
        results = self.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        return dict(zip(numbers, results, strict=True))

    def get_logs(self, from_block: int, to_block: int, addresses: list[str]) -> list[dict]:
        return self.call("eth_getLogs", {"fromBlock": hex(from_block), "toBlock": hex(to_block),
                                         "address": addresses})


class _Retry(Exception):
    """Internal: this attempt failed in a way a retry may fix."""


def _raise_error(method: str, error: Any) -> None:
    if not isinstance(error, dict):
        raise _Retry(f"malformed error {error!r}")
    code, message = error.get("code"), str(error.get("message", ""))
    data = error.get("data")
    detail = f"{message} {data}" if isinstance(data, str | dict) else message
    if method == "eth_getLogs" and _RANGE_TOO_LARGE.search(detail):
        raise RangeTooLarge(method, code, str(detail))
    if code in _FATAL_CODES and not _RATE_LIMITED.search(message):
        raise RpcError(method, code, message)
    raise _Retry(f"error {code}: {message}")
