"""Envelope encryption and the keyring, without a database: every altered or moved byte
fails, every master key version is checked."""

from __future__ import annotations

import base64
import json

import pytest

from backend.vault.crypto import (
    DecryptionFailed,
    TokenBinding,
    decode_secret,
    encode_secret,
    new_key,
    open_sealed,
    seal,
)
from backend.vault.keys import KeyringError, KeyVersionRetired, LocalKeyring, write_keyring
from backend.vault.rotation import next_ring
from tests.vault.helpers import CREDENTIALS, MARKER, address

CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
BINDING = TokenBinding(31337, CONTRACT, 7, address(1))
AAD = BINDING.secret_aad("binance", 1)


def sealed() -> tuple[bytes, bytes, bytes]:
    key = new_key()
    nonce, ciphertext = seal(key, encode_secret(CREDENTIALS), AAD)
    return key, nonce, ciphertext


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


def test_seal__round_trip__and_a_fresh_nonce_each_time():
    key, nonce, ciphertext = sealed()
    assert decode_secret(open_sealed(key, nonce, ciphertext, AAD)) == CREDENTIALS
    again = seal(key, encode_secret(CREDENTIALS), AAD)
    assert again[0] != nonce and again[1] != ciphertext
    assert MARKER.encode() not in ciphertext


@pytest.mark.parametrize("part", ["ciphertext", "tag", "nonce"])
def test_open__tampered_byte__fails(part):
    key, nonce, ciphertext = sealed()
    if part == "nonce":
        nonce = flip(nonce, 3)
    else:
        ciphertext = flip(ciphertext, len(ciphertext) - 1 if part == "tag" else 5)
    with pytest.raises(DecryptionFailed):
        open_sealed(key, nonce, ciphertext, AAD)


@pytest.mark.parametrize("moved", [
    TokenBinding(31337, CONTRACT, 8, address(1)).secret_aad("binance", 1),  # other token
    TokenBinding(31337, CONTRACT, 7, address(2)).secret_aad("binance", 1),  # other owner
    BINDING.secret_aad("kraken", 1),  # other name
    BINDING.secret_aad("binance", 2),  # other version
    TokenBinding(1, CONTRACT, 7, address(1)).secret_aad("binance", 1),  # other chain
    TokenBinding(31337, address(5), 7, address(1)).secret_aad("binance", 1),  # other contract
])
def test_open__ciphertext_moved_to_another_binding__fails(moved):
    key, nonce, ciphertext = sealed()
    with pytest.raises(DecryptionFailed):
        open_sealed(key, nonce, ciphertext, moved)


def test_binding__owner_and_contract_case__do_not_matter():
    upper = TokenBinding(31337, CONTRACT.upper().replace("0X", "0x"), 7, address(1).upper())
    assert upper.secret_aad("binance", 1) == AAD


@pytest.fixture
def ring_file(tmp_path):
    path = tmp_path / "keys.json"
    ring = next_ring(next_ring(None))  # v1 and v2, v2 current
    write_keyring(path, ring)
    return path


def test_keyring__wrap_unwrap__with_each_version(ring_file):
    keys = LocalKeyring(path=ring_file)
    data_key, aad = new_key(), BINDING.data_key_aad()
    version, wrapped = keys.wrap(data_key, aad)
    assert version == keys.current_version() == 2
    assert keys.unwrap(2, wrapped, aad) == data_key
    with pytest.raises(DecryptionFailed):  # the wrong master key version
        keys.unwrap(1, wrapped, aad)
    with pytest.raises(DecryptionFailed):  # moved to another token
        keys.unwrap(2, wrapped, TokenBinding(31337, CONTRACT, 8, address(1)).data_key_aad())
    with pytest.raises(KeyringError, match="v9 is not in the keyring"):
        keys.unwrap(9, wrapped, aad)


def test_keyring__below_minimum_decryption_version__refused(ring_file):
    keys = LocalKeyring(path=ring_file)
    ring = keys.ring()
    _, old = LocalKeyring(text=json.dumps({
        "current_version": 1, "keys": [{"version": 1, "key": base64.b64encode(
            ring.keys[1]).decode()}]})).wrap(b"k" * 32, b"aad")
    assert keys.unwrap(1, old, b"aad") == b"k" * 32
    write_keyring(ring_file, ring.__class__(2, 2, ring.keys, ring.created))
    with pytest.raises(KeyVersionRetired, match="below the minimum decryption version v2"):
        keys.unwrap(1, old, b"aad")  # the file changed: the provider rereads it


@pytest.mark.parametrize("text", ["not json", "{}", '{"current_version": 1, "keys": []}',
                                  '{"current_version": 1, "keys": [{"version": 1, '
                                  '"key": "c2hvcnQ="}]}'])
def test_keyring__malformed__one_clear_error_without_key_bytes(text):
    with pytest.raises(KeyringError) as raised:
        LocalKeyring(text=text)
    assert "c2hvcnQ" not in str(raised.value)


def test_keyring__missing_file__says_how_to_create_one(tmp_path):
    with pytest.raises(KeyringError, match="noderr vault rotate"):
        LocalKeyring(path=tmp_path / "none.json")


def test_plaintext__repr_never_shows_the_secret():
    key, nonce, ciphertext = sealed()
    plaintext = open_sealed(key, nonce, ciphertext, AAD)
    assert MARKER not in repr(plaintext) and MARKER not in str(plaintext)
    assert MARKER in plaintext.reveal().decode()
