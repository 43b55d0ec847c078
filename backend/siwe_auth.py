"""Sign-In with Ethereum (EIP-4361): nonces, and verification of everything the spec asks.

siwe-py parses the message; every check is done here, on the exact text the client signed
(siwe-py's own `verify()` re-serialises the message and skips URI, chain id and issued-at).
"""

from __future__ import annotations

import logging
import secrets
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from abnf import ParseError
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct
from eth_keys.exceptions import BadSignature
from eth_utils import ValidationError, is_checksum_address

from backend.chain_client import ChainClient
from backend.database import Database
from backend.errors import CredentialsRejected, InvalidInput, Refused, TooLarge
from backend.settings import BackendSettings

with warnings.catch_warnings():  # abnf 2.8 warns about the grammar siwe 4.4 ships
    warnings.simplefilter("ignore")
    from siwe import SiweMessage

log = logging.getLogger("noderr.backend.auth")
MAX_MESSAGE_CHARS = 4096
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class SignedIn:
    """A verified sign-in: who, and until when the message allows a session (None: no limit)."""

    address: str
    expiration: datetime | None


@dataclass(frozen=True)
class SiweConfig:
    origins: dict[str, str]  # domain (host[:port]) -> origin (scheme://host[:port])
    statement: str
    chain_id: int
    nonce_ttl: timedelta
    skew: timedelta
    max_age: timedelta

    @classmethod
    def from_settings(cls, settings: BackendSettings, chain_id: int) -> SiweConfig:
        return cls(origins={urlsplit(o).netloc: o.rstrip("/") for o in settings.siwe_domains},
                   statement=settings.siwe_statement, chain_id=chain_id,
                   nonce_ttl=timedelta(seconds=settings.siwe_nonce_ttl),
                   skew=timedelta(seconds=settings.siwe_clock_skew),
                   max_age=timedelta(seconds=settings.siwe_max_age))


async def issue_nonce(db: Database, ttl: timedelta) -> str:
    """A random 128-bit nonce (alphanumeric, as EIP-4361 requires), stored until it expires."""
    nonce = secrets.token_hex(16)
    async with db.connection() as conn:
        await conn.execute("DELETE FROM siwe_nonces WHERE expires_at < now() - interval '1 day'")
        await conn.execute("INSERT INTO siwe_nonces (nonce, expires_at) VALUES (%s, now() + %s)",
                           (nonce, ttl))
    return nonce


def parse_message(text: str) -> SiweMessage:
    if len(text) > MAX_MESSAGE_CHARS:
        raise TooLarge(f"SIWE message longer than {MAX_MESSAGE_CHARS} characters")
    try:
        return SiweMessage.from_message(text)
    except (ValueError, ParseError) as error:
        reason = str(error).splitlines()
        detail = next((line.strip() for line in reason if "Value error" in line), None)
        raise InvalidInput("malformed SIWE message" + (f": {detail}" if detail else "")
                           ) from None


def parse_signature(signature: str) -> bytes:
    if not isinstance(signature, str) or not signature.startswith("0x"):
        raise InvalidInput("signature must be a 0x-prefixed hex string")
    try:
        raw = bytes.fromhex(signature[2:])
    except ValueError:
        raise InvalidInput("signature is not valid hex") from None
    if not raw or len(raw) > 2048:
        raise InvalidInput("signature is empty or too long")
    return raw


async def burn_nonce(db: Database, nonce: str) -> None:
    """Mark the nonce used (first attempt, success or not); reject unknown, used, expired."""
    async with db.connection() as conn:
        row = await (await conn.execute(
            "UPDATE siwe_nonces SET used_at = now() WHERE nonce = %s AND used_at IS NULL "
            "RETURNING expires_at < now() AS expired", (nonce,))).fetchone()
        if row is None:
            row = await (await conn.execute(
                "SELECT used_at FROM siwe_nonces WHERE nonce = %s", (nonce,))).fetchone()
    if row is None:
        raise CredentialsRejected("unknown nonce: ask GET /auth/nonce for one")
    if "used_at" in row:
        raise CredentialsRejected("nonce already used: sign a new message")
    if row["expired"]:
        raise CredentialsRejected("nonce expired: ask GET /auth/nonce for a new one")


def check_fields(message: SiweMessage, config: SiweConfig, now: datetime) -> None:
    """Everything but the nonce and the signature."""
    origin = config.origins.get(message.domain)
    if origin is None:
        raise CredentialsRejected(f"domain {message.domain!r} is not accepted")
    uri = urlsplit(message.uri)
    if f"{uri.scheme}://{uri.netloc}" != origin or uri.query or uri.fragment:
        raise CredentialsRejected(f"URI {message.uri!r} does not match the origin {origin}")
    if message.scheme is not None and message.scheme != urlsplit(origin).scheme:
        raise CredentialsRejected(f"scheme {message.scheme!r} does not match the origin {origin}")
    if message.version != "1":
        raise CredentialsRejected(f"SIWE version {message.version!r} is not supported")
    if message.chain_id != config.chain_id:
        raise CredentialsRejected(f"chain id {message.chain_id} is not this deployment's "
                                f"chain id {config.chain_id}")
    if message.statement != config.statement:
        raise CredentialsRejected(f"statement must be exactly {config.statement!r}")
    if not is_checksum_address(message.address):
        raise CredentialsRejected("address is not in EIP-55 checksum form")
    check_times(message, config, now)


def _time(value: object) -> datetime:
    return value._datetime  # siwe's ISO8601Datetime keeps the parsed datetime here


def check_times(message: SiweMessage, config: SiweConfig, now: datetime) -> None:
    issued = _time(message.issued_at)
    if issued > now + config.skew:
        raise CredentialsRejected("issued-at is in the future")
    if issued < now - config.max_age:
        raise CredentialsRejected("issued-at is too old: sign a new message")
    if message.expiration_time is not None and now >= _time(message.expiration_time):
        raise CredentialsRejected("message expired")
    if message.not_before is not None and now + config.skew < _time(message.not_before):
        raise CredentialsRejected("message not yet valid (not-before is in the future)")


def high_s(signature: bytes) -> bool:
    """A 65-byte signature whose s is above n/2: the malleable twin of a low-s one (EIP-2)."""
    return (len(signature) == 65
            and SECP256K1_N // 2 < int.from_bytes(signature[32:64]) < SECP256K1_N)


async def check_signature(chain: ChainClient, text: str, address: str, signature: bytes) -> None:
    """ECDSA on the exact text (EIP-191) with a low s only, else EIP-1271 when the address
    is a contract (which judges its own signatures)."""
    signable = encode_defunct(text=text)
    if len(signature) == 65 and not high_s(signature):
        try:
            if Account.recover_message(signable, signature=signature) == address:
                return
        except (ValueError, BadSignature, ValidationError):
            log.info("signature does not recover to an address")
    if await chain.has_code(address):
        digest = _hash_eip191_message(signable)
        if await chain.is_valid_1271(address, digest, signature):
            return
        raise CredentialsRejected(f"the wallet contract {address} rejects this signature")
    if high_s(signature):
        raise CredentialsRejected("signature has a high s value: only low-s signatures are "
                                  "accepted (EIP-2); sign again with a standard wallet")
    raise CredentialsRejected(f"signature is not by {address}")


async def verify(db: Database, chain: ChainClient, config: SiweConfig, text: str,
                 signature: str) -> SignedIn:
    """The signed-in address, or a Refused error with the reason (and a log line)."""
    try:
        message = parse_message(text)
        await burn_nonce(db, message.nonce)
        check_fields(message, config, datetime.now(UTC))
        await check_signature(chain, text, message.address, parse_signature(signature))
    except Refused as rejected:
        log.warning("SIWE sign-in rejected: %s", rejected.message)
        raise
    log.info("SIWE sign-in: %s", message.address)
    expiration = message.expiration_time
    return SignedIn(message.address, None if expiration is None else _time(expiration))
