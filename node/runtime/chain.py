"""The node's chain adapter: contract functions from the deployment's ABI (calldata in, return
values out, eth_abi) and a JSON-RPC client that reads with eth_call and sends raw transactions
signed with the node key (noderr.jsonrpc, off the event loop). Validators transmit reports
through it (node/runtime/validator.py), guardians halt NodeGuard (node/runtime/guardian.py), the
paper desk reads a feed's agreed values (node/runtime/agreed_feed.py, blocking: `read_contract`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import keccak

from node.runtime.keys import NodeKey
from noderr import jsonrpc


@dataclass(frozen=True)
class AbiFunction:
    """One contract function from its ABI entry: calldata in, return values out (eth_abi)."""

    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @classmethod
    def of(cls, abi: list[dict[str, Any]], name: str) -> AbiFunction:
        entry = next(item for item in abi
                     if item.get("type") == "function" and item["name"] == name)
        inputs = tuple(abi_type(item) for item in entry["inputs"])
        return cls(keccak(text=f"{name}({','.join(inputs)})")[:4], inputs,
                   tuple(abi_type(item) for item in entry["outputs"]))

    def calldata(self, *args: Any) -> str:
        return "0x" + (self.selector + abi_encode(list(self.inputs), list(args))).hex()

    def returned(self, data: str) -> tuple[Any, ...]:
        return abi_decode(list(self.outputs), bytes.fromhex(data.removeprefix("0x")))


def abi_type(entry: dict[str, Any]) -> str:
    """The canonical type of an ABI parameter: a tuple as `(t1,t2)` with its array suffix."""
    kind = entry["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(abi_type(item) for item in entry["components"]) + ")" + kind[5:]
    return kind


RECEIPT_POLL_S = 0.1


def read_contract(rpc_url: str, address: str, function: AbiFunction, *args: Any,
                  client: httpx.Client | None = None) -> tuple[Any, ...]:
    """`function(*args)` of the contract at `address`, by eth_call at the latest block
    (blocking; JsonRpcError when the call reverts or the chain does not answer)."""
    result = jsonrpc.call(rpc_url, "eth_call", [{"to": address,
                                                 "data": function.calldata(*args)}, "latest"],
                          client=client)
    return function.returned(result)


class Chain:
    """Reads contracts and sends transactions signed with the node key. One transaction at a
    time per node, so nonces never collide."""

    def __init__(self, rpc_url: str, key: NodeKey, chain_id: int) -> None:
        self.rpc_url, self.key, self.chain_id = rpc_url, key, chain_id
        self._sending = asyncio.Lock()
        self._http = httpx.Client()  # kept across calls, and thread-safe: see jsonrpc.call

    async def _call(self, method: str, params: list[Any] | None = None) -> Any:
        return await asyncio.to_thread(jsonrpc.call, self.rpc_url, method, params,
                                       client=self._http)

    async def read(self, address: str, function: AbiFunction, *args: Any) -> tuple[Any, ...]:
        """`function(*args)` of the contract at `address`, by eth_call at the latest block."""
        return await asyncio.to_thread(read_contract, self.rpc_url, address, function, *args,
                                       client=self._http)

    async def latest_timestamp(self) -> int:
        block = await self._call("eth_getBlockByNumber", ["latest", False])
        return int(block["timestamp"], 16)

    async def succeeded(self, tx_hash: str, timeout_s: float = 30.0) -> bool:
        """Whether the transaction was mined with status 1 within `timeout_s`: a sent
        transaction can still revert (another's landed first, the membership changed)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            receipt = await self._call("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                return int(receipt["status"], 16) == 1
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(RECEIPT_POLL_S)

    async def send(self, address: str, data: str) -> str:
        """Send `data` to `address`; the transaction hash. JsonRpcError when the node refuses
        it (the gas estimate reverts)."""
        call = {"from": self.key.address, "to": address, "data": data}
        async with self._sending:
            nonce = int(await self._call("eth_getTransactionCount",
                                         [self.key.address, "pending"]), 16)
            gas = int(await self._call("eth_estimateGas", [call]), 16)
            gas_price = int(await self._call("eth_gasPrice"), 16)
            signed = Account.sign_transaction(
                {"to": address, "data": data, "value": 0, "nonce": nonce,
                 "gas": gas + gas // 5, "gasPrice": gas_price, "chainId": self.chain_id},
                self.key.private_key)
            return await self._call("eth_sendRawTransaction",
                                    ["0x" + signed.raw_transaction.hex().removeprefix("0x")])
