"""The node's key: an encrypted JSON keystore and its password file, or on the local chain
only, one of anvil's well-known development accounts. Never a plaintext key in configuration."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from eth_account.messages import encode_defunct

from noderr.settings import LOCAL_CHAIN_ID

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
"""anvil's default mnemonic: its accounts are public knowledge, fit only for a local chain."""
ANVIL_ACCOUNTS = 20
"""anvil's `--accounts` default is 10; the demo starts it with more (its node network)."""


class KeyLoadError(Exception):
    """The key cannot be loaded; the message says why and names the file or account."""


@dataclass(frozen=True)
class NodeKey:
    """A node's signing key. The private key is never printed (repr hides it)."""

    address: str
    private_key: bytes = field(repr=False)

    def sign_message(self, text: str) -> str:
        """EIP-191 personal_sign of `text` (what a wallet signs for Sign-In with Ethereum)."""
        signed = Account.sign_message(encode_defunct(text=text), self.private_key)
        return "0x" + signed.signature.hex().removeprefix("0x")


def from_keystore(keystore: Path, password_file: Path) -> NodeKey:
    """Decrypt an Ethereum JSON keystore (geth/eth-account format) with the password in a file."""
    try:
        encrypted = json.loads(keystore.read_text())
    except FileNotFoundError:
        raise KeyLoadError(f"keystore {keystore} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise KeyLoadError(f"keystore {keystore} is not a JSON keystore ({error})") from None
    try:
        password = password_file.read_text().rstrip("\r\n")
    except OSError as error:
        raise KeyLoadError(f"cannot read the password file {password_file} ({error})") from None
    try:
        private_key = Account.decrypt(encrypted, password)
    except ValueError as error:
        raise KeyLoadError(f"cannot decrypt {keystore}: {error} (wrong password?)") from None
    except (KeyError, TypeError) as error:
        raise KeyLoadError(f"keystore {keystore} is missing field {error}") from None
    return NodeKey(Account.from_key(private_key).address, bytes(private_key))


def anvil_account(index: int, chain_id: int) -> NodeKey:
    """anvil's development account `index`, refused on any chain but the local one."""
    if chain_id != LOCAL_CHAIN_ID:
        raise KeyLoadError(f"--account is for the local chain ({LOCAL_CHAIN_ID}) only; this chain "
                        f"is {chain_id}: use --keystore and --password-file")
    if not 0 <= index < ANVIL_ACCOUNTS:
        raise KeyLoadError(f"--account must be between 0 and {ANVIL_ACCOUNTS - 1}, not {index}")
    Account.enable_unaudited_hdwallet_features()
    account = Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return NodeKey(account.address, bytes(account.key))
