"""System integrity verification: are the reports signed by enough of the right nodes, do the
peers hold the same state, are the nodes alive, is this node's clock right.

Byzantine thresholds (n >= 3f + 1 nodes, at most f faulty): f + 1 distinct signers include at
least one honest node (enough to trust a claim: OCR2's transmission check); 2f + 1 include a
majority of the honest ones (enough to commit: OCR2's report, PBFT's quorum)."""

from __future__ import annotations

import re
import statistics
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from node.errors import EmptyInput
from node.guardian import checks as guardian_checks
from node.oracle import checks
from node.oracle.refusals import MalformedInput

HEX_HASH = re.compile(r"(0x)?[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class SignatureCheck:
    """`valid` when at least `needed` distinct authorised addresses signed (`signers`)."""

    valid: bool
    check: str
    signers: int
    needed: int
    unauthorised: tuple[str, ...]
    duplicates: tuple[str, ...]


def verify_report_signatures(recovered: Sequence[str], authorised: Collection[str], f: int,
                             threshold: Literal["f+1", "2f+1"] = "2f+1") -> SignatureCheck:
    """Count the distinct authorised signers among the addresses recovered from a report's
    signatures, against f + 1 or 2f + 1. A signer set smaller than 3f + 1 cannot tolerate f
    faults and is refused; unauthorised and repeated signers are listed, never counted."""
    checks.count("f", f, 0)
    checks.require(threshold in ("f+1", "2f+1"),
                   f"threshold must be f+1 or 2f+1, not {threshold!r}")
    members = set(guardian_checks.addresses(authorised))
    if len(members) < 3 * f + 1:
        raise EmptyInput(f"{len(members)} authorised signer(s) cannot tolerate f = {f}: "
                         f"need 3f+1 = {3 * f + 1}")
    needed = f + 1 if threshold == "f+1" else 2 * f + 1
    seen: dict[str, None] = {}
    unauthorised: dict[str, None] = {}
    duplicates: dict[str, None] = {}
    for signer in guardian_checks.addresses(recovered):
        if signer not in members:
            unauthorised[signer] = None
        elif signer in seen:
            duplicates[signer] = None
        else:
            seen[signer] = None
    return SignatureCheck(len(seen) >= needed, "report_signatures", len(seen), needed,
                          tuple(unauthorised), tuple(duplicates))


@dataclass(frozen=True)
class StateConsistency:
    """`consistent` when every peer holds one hash. `majority_hash` is the hash held by at least
    `needed` peers (None if none is), `dissenters` the peers that hold another."""

    consistent: bool
    majority_hash: str | None
    agreeing: int
    needed: int
    dissenters: tuple[str, ...]


def verify_state_consistency(snapshots: Mapping[str, str],
                             needed: int | None = None) -> StateConsistency:
    """Compare the state hashes (32 bytes in hex, at one height) the peers report. The majority
    needs `needed` peers (default: more than half); without one every peer dissents."""
    if not snapshots:
        raise EmptyInput("no peer snapshot")
    hashes = {peer: _state_hash(peer, value) for peer, value in snapshots.items()}
    quorum = len(hashes) // 2 + 1 if needed is None else checks.count("needed", needed, 1)
    checks.require(quorum <= len(hashes), f"needed {quorum} exceeds the {len(hashes)} peers")
    tally: dict[str, int] = {}
    for value in hashes.values():
        tally[value] = tally.get(value, 0) + 1
    leader, agreeing = max(tally.items(), key=lambda item: item[1])
    majority = leader if agreeing >= quorum else None
    dissenters = tuple(peer for peer, value in hashes.items() if value != majority)
    return StateConsistency(len(tally) == 1, majority, agreeing, quorum, dissenters)


def _state_hash(peer: str, value: str) -> str:
    if not isinstance(value, str) or not HEX_HASH.fullmatch(value):
        raise MalformedInput(f"{peer}: not a 32-byte hex hash: {value!r}")
    return value.lower().removeprefix("0x")


@dataclass(frozen=True)
class Heartbeats:
    """`healthy` when no expected node is `missing` (never heard) or `stale` (silent longer than
    allowed); `stale` pairs each node with its silence."""

    healthy: bool
    alive: tuple[str, ...]
    missing: tuple[str, ...]
    stale: tuple[tuple[str, timedelta], ...]


def check_node_heartbeats(last_seen: Mapping[str, datetime], expected: Collection[str],
                          now: datetime, max_silence: timedelta) -> Heartbeats:
    """Classify the expected nodes by their last heartbeat (from the heartbeat store). A
    heartbeat stamped after `now` counts as just heard (the clock check judges the skew)."""
    silence_ns = checks.positive_duration("max_silence", max_silence)
    now_ns = guardian_checks.instant("now", now)
    alive, missing, stale = [], [], []
    for node in expected:
        if node not in last_seen:
            missing.append(node)
            continue
        quiet_ns = max(now_ns - guardian_checks.instant(f"last heartbeat of {node}",
                                                        last_seen[node]), 0)
        if quiet_ns > silence_ns:
            stale.append((node, timedelta(microseconds=quiet_ns // 1_000)))
        else:
            alive.append(node)
    return Heartbeats(not missing and not stale, tuple(alive), tuple(missing), tuple(stale))


@dataclass(frozen=True)
class ClockSkew:
    """Skews are local minus reference. `within` when |skew to the peers' median| <= the limit
    and the local clock is neither behind the last block's time by more than the limit nor
    ahead of it by more than the limit plus the block interval."""

    within: bool
    check: str
    to_peers: timedelta
    to_block: timedelta | None
    limit: timedelta


def check_clock_skew(local: datetime, peer_times: Sequence[datetime], max_skew: timedelta,
                     block_time: datetime | None = None,
                     block_interval: timedelta = timedelta(seconds=12)) -> ClockSkew:
    """The local clock against the median of the peers' clocks read at the same moment (and the
    latest block's timestamp, when given)."""
    limit_ns = checks.positive_duration("max_skew", max_skew)
    interval_ns = checks.positive_duration("block_interval", block_interval)
    if not peer_times:
        raise EmptyInput("no peer clock reading")
    local_ns = guardian_checks.instant("local", local)
    median_ns = statistics.median(guardian_checks.instant("peer time", at) for at in peer_times)
    to_peers_ns = local_ns - int(median_ns)
    within = abs(to_peers_ns) <= limit_ns
    to_block = None
    if block_time is not None:
        to_block_ns = local_ns - guardian_checks.instant("block_time", block_time)
        within = within and -limit_ns <= to_block_ns <= limit_ns + interval_ns
        to_block = timedelta(microseconds=to_block_ns // 1_000)
    return ClockSkew(within, "clock_skew", timedelta(microseconds=to_peers_ns // 1_000),
                     to_block, max_skew)
