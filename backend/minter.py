"""The optional server-side minter: an encrypted keystore account (its password in a file,
never in configuration) that signs and sends mint transactions for batch approval.

Off unless NODERR_MINTER_KEYSTORE and NODERR_MINTER_PASSWORD_FILE are both set. The key is
decrypted once, when the app is created: a wrong password stops the API from starting.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi import decode, encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector

from backend.chain_client import ChainClient, ChainUnavailable
from backend.settings import BackendSettings
from noderr.domain import MINTER_ROLE, ROLE_IDS

_HAS_ROLE = function_signature_to_4byte_selector("hasRole(bytes32,address)")
GAS_MARGIN_PERCENT = 20


class MinterError(ValueError):
    """The minter's configuration cannot be used (the message says why; never the password)."""


class MintFailed(Exception):
    """One mint transaction could not be sent (the chain refused it or did not answer)."""


@dataclass
class Minter:
    """A keystore account that sends transactions one at a time, nonces in sequence."""

    account: LocalAccount = field(repr=False)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def address(self) -> str:
        return self.account.address

    async def has_minter_role(self, chain: ChainClient, license_address: str) -> bool:
        data = _HAS_ROLE + encode(["bytes32", "address"], [ROLE_IDS[MINTER_ROLE], self.address])
        (granted,) = decode(["bool"], await chain.eth_call(license_address, data))
        return bool(granted)

    async def send_all(self, chain: ChainClient, chain_id: int,
                       transactions: list[dict[str, Any]]) -> list[str | MintFailed]:
        """Send each transaction in order: its hash, or MintFailed with the chain's reason.
        The caller holds `lock`, so nonces never interleave between batches."""
        if not transactions:
            return []
        try:
            nonce = int(await chain.call_rpc(
                "eth_getTransactionCount", [self.address, "pending"]), 16)
            fees = await _fees(chain)
        except ChainUnavailable as error:
            return [MintFailed(f"could not prepare the mint: {error}") for _ in transactions]
        results: list[str | MintFailed] = []
        for transaction in transactions:
            try:
                results.append(await self._send(chain, chain_id, transaction, nonce, fees))
                nonce += 1
            except MintFailed as failed:
                results.append(failed)
        return results

    async def _send(self, chain: ChainClient, chain_id: int, transaction: dict[str, Any],
                    nonce: int, fees: dict[str, int]) -> str:
        call = {"from": self.address, "to": transaction["to"], "data": transaction["data"]}
        try:
            gas = int(await chain.call_rpc("eth_estimateGas", [call]), 16)
            signed = self.account.sign_transaction({
                "to": transaction["to"], "data": transaction["data"], "value": 0,
                "chainId": chain_id, "nonce": nonce, "type": 2,
                "gas": gas * (100 + GAS_MARGIN_PERCENT) // 100, **fees})
            return await chain.call_rpc("eth_sendRawTransaction",
                                        ["0x" + signed.raw_transaction.hex()])
        except ChainUnavailable as error:
            raise MintFailed(f"the chain refused the mint: {error}") from None


async def _fees(chain: ChainClient) -> dict[str, int]:
    block = await chain.call_rpc("eth_getBlockByNumber", ["latest", False])
    tip = int(await chain.call_rpc("eth_maxPriorityFeePerGas", []), 16)
    base = int(block.get("baseFeePerGas") or "0x0", 16)
    return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}


def load_minter(settings: BackendSettings) -> Minter | None:
    """The configured minter, None when it is off, MinterError when it cannot be used."""
    keystore, password_file = settings.minter_keystore, settings.minter_password_file
    if keystore is None and password_file is None:
        return None
    if keystore is None or password_file is None:
        raise MinterError("set both NODERR_MINTER_KEYSTORE and NODERR_MINTER_PASSWORD_FILE "
                          "(or neither: the server-side minter stays off)")
    encrypted = _read_keystore(keystore)
    password = _read_password(password_file)
    try:
        return Minter(Account.from_key(Account.decrypt(encrypted, password)))
    except (ValueError, TypeError, KeyError):
        raise MinterError(f"cannot decrypt the minter keystore {keystore} with the password "
                          f"in {password_file}: wrong password?") from None


def _read_keystore(path: Path) -> dict[str, Any]:
    try:
        encrypted = json.loads(path.read_text())
    except OSError as error:
        raise MinterError(f"cannot read the minter keystore {path}: {error.strerror}") from None
    except ValueError:
        raise MinterError(f"the minter keystore {path} is not JSON") from None
    if not isinstance(encrypted, dict) or "crypto" not in {k.lower() for k in encrypted}:
        raise MinterError(f"the minter keystore {path} is not an encrypted JSON keystore")
    return encrypted


def _read_password(path: Path) -> str:
    try:
        return path.read_text().rstrip("\r\n")
    except OSError as error:
        raise MinterError(f"cannot read the minter password file {path}: {error.strerror}"
                          ) from None
