"""Signing SIWE messages with anvil's public dev keys (the standard test mnemonic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eth_account import Account
from eth_account.messages import encode_defunct

Account.enable_unaudited_hdwallet_features()
MNEMONIC = "test test test test test test test test test test test junk"
KEYS = [Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(10)]
ORIGIN = "http://127.0.0.1:8000"


def siwe_text(address: str, nonce: str, *, domain: str = "127.0.0.1:8000", uri: str = ORIGIN,
              chain_id: int = 31337, statement: str = "Sign in to Noderr.", version: str = "1",
              issued_at: datetime | None = None, expiration: datetime | None = None,
              not_before: datetime | None = None) -> str:
    issued_at = issued_at or datetime.now(UTC)
    lines = [f"{domain} wants you to sign in with your Ethereum account:", address, "",
             statement, "", f"URI: {uri}", f"Version: {version}", f"Chain ID: {chain_id}",
             f"Nonce: {nonce}", f"Issued At: {iso(issued_at)}"]
    if expiration:
        lines.append(f"Expiration Time: {iso(expiration)}")
    if not_before:
        lines.append(f"Not Before: {iso(not_before)}")
    return "\n".join(lines)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sign(text: str, key_index: int = 0) -> str:
    return "0x" + KEYS[key_index].sign_message(encode_defunct(text=text)).signature.hex()


def ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)
