"""Compliance monitoring: who may trade or report (licenses, the deny list), what they did
(wash trades) and the record of every risk decision (a hash-chained audit log).

The audit log chains SHA-256 hashes: entry i's hash covers its index, time, decision (canonical
JSON: sorted keys, no spaces, no NaN) and entry i-1's hash, so changing, removing or reordering
any entry changes every hash after it; verify_audit_log finds the first entry that breaks."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from node.errors import NonFiniteInput
from node.guardian import checks as guardian_checks
from node.guardian.orders import SIDES, Fill
from node.oracle import checks
from node.oracle.refusals import MalformedInput
from noderr.domain import NodeType

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class LicenseCheck:
    allowed: bool
    check: str
    address: str
    required: NodeType
    held: frozenset[NodeType]


def check_license_validity(address: str, required: NodeType,
                           membership: Mapping[str | bytes, Collection[NodeType]]
                           ) -> LicenseCheck:
    """Whether `address` holds an active license of type `required`, in the membership snapshot
    of the chain mirror (address -> node types of its active licenses; suspended or revoked
    licenses are not in it). Members are keyed by 0x-hex in any case or by their 20 bytes (the
    bus's `Snapshot.types`); a lowercase or bytes key is found directly, others by a scan."""
    wanted = _node_type(required)
    subject = guardian_checks.address(address)
    types = _types_of(subject, membership)
    held = frozenset(_node_type(node_type) for node_type in types)
    return LicenseCheck(wanted in held, "license_validity", subject, wanted, held)


def _types_of(subject: str, membership: Mapping[str | bytes, Collection[NodeType]]
              ) -> Collection[NodeType]:
    for key in (subject, bytes.fromhex(subject[2:])):
        if key in membership:
            return membership[key]
    for member, types in membership.items():
        spelled = "0x" + member.hex() if isinstance(member, bytes) else member
        if guardian_checks.address(spelled) == subject:
            return types
    return ()


def _node_type(value: object) -> NodeType:
    try:
        return NodeType.parse(value)
    except ValueError as error:
        raise MalformedInput(str(error)) from error


class Denylist(frozenset[str]):
    """Deny-listed addresses, checked and lowercased once: a list screened against every order
    is worth preparing. A plain collection works too and is checked on each screening."""

    @classmethod
    def of(cls, addresses: Iterable[str]) -> Denylist:
        return cls(guardian_checks.addresses(addresses))


@dataclass(frozen=True)
class Screening:
    allowed: bool
    check: str
    hits: tuple[str, ...]


def screen_address_denylist(addresses: Iterable[str],
                            denylist: Denylist | Collection[str]) -> Screening:
    """The given addresses found on the deny list (lowercase, in the order given, once each);
    allowed when none is."""
    listed = denylist if isinstance(denylist, Denylist) else Denylist.of(denylist)
    hits = dict.fromkeys(entry for entry in guardian_checks.addresses(addresses)
                         if entry in listed)
    return Screening(not hits, "address_denylist", tuple(hits))


@dataclass(frozen=True)
class WashPair:
    """A buy and a sell (indices into the fills) of one owner and instrument, `gap` apart."""

    owner: str
    instrument: str
    buy: int
    sell: int
    gap: timedelta


@dataclass(frozen=True)
class WashTrading:
    suspicious: bool
    pairs: tuple[WashPair, ...]
    owners: tuple[str, ...]


def detect_wash_trading(fills: Sequence[Fill], window: timedelta) -> WashTrading:
    """Every pair of opposite fills of one owner in one instrument at most `window` apart (in
    either order): trading with oneself leaves no change of ownership, only volume. Pairs come
    sorted by buy then sell index; owners in order of their first pair."""
    window_us = checks.positive_duration("window", window) // 1_000
    groups: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    for index, fill in enumerate(fills):
        if fill.side not in SIDES:
            raise MalformedInput(f"fill {index}: side must be buy or sell, not {fill.side!r}")
        checks.positive_scalar(f"fill {index} quantity", fill.quantity)
        checks.positive_scalar(f"fill {index} price", fill.price)
        at_us = guardian_checks.instant(f"fill {index} time", fill.at) // 1_000
        groups.setdefault((fill.owner, fill.instrument), []).append((at_us, index, fill.side))
    pairs = []
    for (owner, instrument), group in groups.items():
        group.sort()
        for position, (at_us, index, side) in enumerate(group):
            for later_us, other, other_side in group[position + 1:]:
                if later_us - at_us > window_us:
                    break
                if other_side != side:
                    buy, sell = (index, other) if side == "buy" else (other, index)
                    pairs.append(WashPair(owner, instrument, buy, sell,
                                          timedelta(microseconds=later_us - at_us)))
    pairs.sort(key=lambda pair: (pair.buy, pair.sell))
    owners = tuple(dict.fromkeys(pair.owner for pair in pairs))
    return WashTrading(bool(pairs), tuple(pairs), owners)


@dataclass(frozen=True)
class AuditEntry:
    index: int
    at: str
    """ISO 8601 time of the decision."""
    decision: str
    """The decision as canonical JSON."""
    previous_hash: str
    hash: str


def _canonical(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted(value, key=repr)
    raise MalformedInput(f"cannot record a {type(value).__name__} in the audit log")


def _entry_hash(index: int, at: str, decision: str, previous_hash: str) -> str:
    body = json.dumps([index, at, decision, previous_hash], separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def audit_log_append(previous: AuditEntry | None, decision: Mapping[str, Any] | Any,
                     at: datetime) -> AuditEntry:
    """The entry that follows `previous` (None: the first) recording `decision` (a mapping or a
    decision dataclass; datetimes, enums and sets are written as text, numbers and lists)."""
    guardian_checks.instant("at", at)
    try:
        text = json.dumps(decision, sort_keys=True, separators=(",", ":"), allow_nan=False,
                          default=_canonical, ensure_ascii=False)
    except MalformedInput:
        raise
    except ValueError as error:
        raise NonFiniteInput(f"decision holds a NaN or infinity: {error}") from error
    index = 0 if previous is None else previous.index + 1
    previous_hash = GENESIS_HASH if previous is None else previous.hash
    stamp = at.isoformat()
    return AuditEntry(index, stamp, text, previous_hash,
                      _entry_hash(index, stamp, text, previous_hash))


@dataclass(frozen=True)
class AuditVerification:
    valid: bool
    first_broken: int | None


def verify_audit_log(entries: Sequence[AuditEntry]) -> AuditVerification:
    """Walk the chain from the genesis: the first entry whose index, link or hash is wrong."""
    expected_previous = GENESIS_HASH
    for position, entry in enumerate(entries):
        if (entry.index != position or entry.previous_hash != expected_previous
                or entry.hash != _entry_hash(entry.index, entry.at, entry.decision,
                                             entry.previous_hash)):
            return AuditVerification(False, position)
        expected_previous = entry.hash
    return AuditVerification(True, None)
