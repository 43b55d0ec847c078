"""Envelope encryption with AES-256-GCM (`cryptography`), nothing home-made.

A secret is sealed under its license's data key with a fresh random 96-bit nonce; the
additional authenticated data (AAD) binds it to chain id, contract, token id, owner, secret
name and version, so a ciphertext moved to another row fails to decrypt. A data key is sealed
the same way under a master key version, bound to chain, contract, token and owner.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
SECRET_PURPOSE = "noderr-vault/secret/v1"  # noqa: S105 - a label, not a secret
DATA_KEY_PURPOSE = "noderr-vault/data-key/v1"


class DecryptionFailed(Exception):
    """Authentication failed: wrong key, altered bytes or a ciphertext moved elsewhere."""


@dataclass(frozen=True)
class TokenBinding:
    """Which license a data key or secret belongs to."""

    chain_id: int
    contract: str
    token_id: int
    owner: str

    def fields(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "contract": self.contract.lower(),
                "token_id": str(self.token_id), "owner": self.owner.lower()}

    def secret_aad(self, name: str, version: int) -> bytes:
        return canonical({"purpose": SECRET_PURPOSE, **self.fields(), "name": name,
                          "version": version})

    def data_key_aad(self) -> bytes:
        """The master key version is not bound: a wrong version fails as a wrong key does."""
        return canonical({"purpose": DATA_KEY_PURPOSE, **self.fields()})


class Plaintext:
    """Decrypted bytes whose repr never shows them (tracebacks, debuggers, logs)."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = value

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return f"Plaintext(<{len(self._value)} bytes redacted>)"

    __str__ = __repr__


def canonical(value: dict[str, Any]) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """(nonce, ciphertext‖tag) under `key`; a fresh random nonce every call."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> Plaintext:
    """The plaintext, or DecryptionFailed (the message never carries key or data)."""
    if len(nonce) != NONCE_BYTES or len(key) != KEY_BYTES:
        raise DecryptionFailed("malformed nonce or key")
    try:
        return Plaintext(AESGCM(key).decrypt(nonce, ciphertext, aad))
    except InvalidTag:
        raise DecryptionFailed("authentication tag mismatch") from None


def encode_secret(data: dict[str, Any]) -> bytes:
    return canonical(data)


def decode_secret(plaintext: Plaintext) -> dict[str, Any]:
    return json.loads(plaintext.reveal())
