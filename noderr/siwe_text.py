"""The EIP-4361 (Sign-In with Ethereum) text a Noderr client signs."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from eth_utils import to_checksum_address

STATEMENT = "Sign in to Noderr."


def siwe_message(origin: str, address: str, chain_id: int, nonce: str,
                 issued_at: datetime | None = None, statement: str = STATEMENT) -> str:
    """The message for `origin` (scheme://host[:port]); `address` is checksummed, since
    wallets answer `eth_accounts` in lowercase and EIP-4361 requires EIP-55."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not a page origin: {origin!r}")
    moment = (issued_at or datetime.now(UTC)).astimezone(UTC)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return "\n".join([
        f"{parts.netloc} wants you to sign in with your Ethereum account:",
        to_checksum_address(address), "", statement, "",
        f"URI: {parts.scheme}://{parts.netloc}", "Version: 1", f"Chain ID: {chain_id}",
        f"Nonce: {nonce}", f"Issued At: {stamp}"])
