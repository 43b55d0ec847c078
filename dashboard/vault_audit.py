"""Client-side verification of the vault's exported audit log (GET /vault/audit/export).

The dashboard is an HTTP client and imports no backend code, so this re-implements the
documented format: entry n carries `prev_hash` = `hash` of entry n-1 (entry 1: 32 zero bytes)
and `hash` = SHA-256 of "noderr-vault-audit/v1" followed by every other field, each written
as "<utf-8 byte length>:<text>" ("~" for null) in the order seq, at (UTC,
%Y-%m-%dT%H:%M:%S.%fZ), actor, token_id, secret_name, action, outcome, request_id, detail,
prev_hash (hex). The export's `X-Vault-Audit-Head: SEQ:HASH` header names the newest entry,
so a truncated export is detected too."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PREIMAGE_PREFIX = "noderr-vault-audit/v1"
ZERO_HASH = "00" * 32
HEAD_HEADER = "X-Vault-Audit-Head"


class ExportError(ValueError):
    """The export cannot be read at all (not JSON lines, a field missing, a bad header)."""


@dataclass
class Verdict:
    """How far the chain holds: `bad_seq` is the first entry that breaks it (None: intact)."""

    entries: int = 0
    head_seq: int = 0
    head_hash: str = ZERO_HASH
    bad_seq: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.bad_seq is None


def parse_export(text: str) -> list[dict[str, Any]]:
    """The entries of an export (JSON lines), in the order they were sent."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            raise ExportError(f"the export is not JSON lines (line {number})") from None
    return entries


def parse_head(value: str | None) -> tuple[int, str] | None:
    """`SEQ:HASH` from the export's head header, or None when the header is absent."""
    if not value:
        return None
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise ExportError(f"unreadable {HEAD_HEADER} header: {value[:80]!r}")
    return int(seq), digest.lower()


def _field(value: str | None) -> str:
    return "~" if value is None else f"{len(value.encode())}:{value}"


def _timestamp(text: str) -> str:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("timestamp without a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(entry: dict[str, Any]) -> str:
    """Hex SHA-256 of the entry's fields but `hash` (KeyError/ValueError when malformed)."""
    token_id = entry["token_id"]
    values = [str(int(entry["seq"])), _timestamp(entry["at"]), entry["actor"],
              None if token_id is None else str(int(token_id)), entry["secret_name"],
              entry["action"], entry["outcome"], entry["request_id"], entry["detail"],
              str(entry["prev_hash"]).lower()]
    preimage = PREIMAGE_PREFIX + "".join(_field(value) for value in values)
    return hashlib.sha256(preimage.encode()).hexdigest()


def _problem(entry: dict[str, Any], seq: int, prev: str) -> str:
    try:
        if int(entry["seq"]) != seq:
            return f"missing: the next entry found is {entry['seq']} (deleted or reordered)"
        if not hmac.compare_digest(str(entry["prev_hash"]).lower(), prev):
            return "prev_hash is not the hash of the entry before it"
        if not hmac.compare_digest(entry_hash(entry), str(entry["hash"]).lower()):
            return "contents do not match its hash (edited)"
    except (KeyError, TypeError, ValueError) as error:
        return f"malformed entry ({type(error).__name__}: {error})"
    return ""


def _check_head(verdict: Verdict, head: tuple[int, str] | None) -> Verdict:
    if head is None:
        return verdict
    seq, digest = head
    if seq > verdict.head_seq:
        return _bad(verdict, verdict.head_seq + 1, f"missing: the head names entry {seq}, "
                    f"the export ends at {verdict.head_seq} (truncated)")
    if seq < verdict.head_seq or not hmac.compare_digest(digest, verdict.head_hash):
        return _bad(verdict, seq, "the head does not match the export's last entry")
    return verdict


def _bad(verdict: Verdict, seq: int, reason: str) -> Verdict:
    verdict.bad_seq, verdict.reason = seq, reason
    return verdict


def verify(entries: list[dict[str, Any]], head: tuple[int, str] | None = None) -> Verdict:
    """Walk the chain from seq 1; the first entry that breaks it, with the reason."""
    verdict = Verdict()
    for entry in entries:
        problem = _problem(entry, verdict.head_seq + 1, verdict.head_hash)
        if problem:
            return _bad(verdict, verdict.head_seq + 1, problem)
        verdict.entries += 1
        verdict.head_seq, verdict.head_hash = int(entry["seq"]), str(entry["hash"]).lower()
    return _check_head(verdict, head)
