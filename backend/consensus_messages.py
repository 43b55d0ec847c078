"""The validators' consensus messages as the backend keeps them, and as anyone may read them.

A validator node (a holder of an active Validator license now) posts every consensus message
it signed or received: the feed, the message's signed text (noderr/consensus_text.py), its
author's signature and when the reporter sent or received it. Everything else is read from
the text, not taken from the reporter: phase, sender, round, view, proposal digest.

Signatures are checked here, at intake, and a batch holding one that does not recover to the
sender its text names is refused whole (422 naming it): a validator cannot plant another's
word, and every stored row is genuine, so readers need no `verified` flag to filter on. The
check is one ecrecover per message (coincurve, about 0.1 ms; a full batch of MAX_MESSAGES
about 30 ms, run off the event loop). Honest nodes never post an unverifiable message: their
codec refuses those before the core sees them.

The feed is the reporter's word (the signed text does not name it). Rows are keyed by
(reporter, feed, signed digest): a batch posted again, or a retransmitted message, stores
nothing new.

What one reporter stores is bounded (backend/message_bounds.py): a batch past a bound is
refused whole, 422 naming the message and the limit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from eth_utils import to_checksum_address
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from backend import authz, message_bounds
from backend.caller import Caller
from backend.context import Backend
from backend.database import Database
from backend.message_bounds import BadMessage
from noderr import consensus_text
from noderr.consensus_text import MalformedText, SignedText
from noderr.domain import NodeType

Row = dict[str, Any]
MAX_MESSAGES = 200
MAX_TEXT = 16_384
"""A new view at n = 7 with every view change carrying its certificate is about 6 kB."""
UINT32_MAX = 2**32 - 1
MAX_VIEW = 2**62
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(days=1)
Feed = Annotated[str, Field(pattern=r"^[A-Z0-9_]{1,16}$")]


class MessageReport(BaseModel):
    """One consensus message as the reporting validator signed or received it."""

    model_config = ConfigDict(extra="forbid")

    feed: Feed = Field(description="A feed of the deployment.")
    text: str = Field(min_length=1, max_length=MAX_TEXT,
                      description="The message's signed canonical text.")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$",
                           description="Its author's 65-byte signature (r, s, v).")
    seen_at: AwareDatetime = Field(description="When the reporter sent or received it "
                                               "(RFC 3339, with its UTC offset).")

    @field_validator("seen_at")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        if not EARLIEST <= value <= datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("seen_at is not between 2000 and a day ahead of the server's "
                             "clock")
        return value


class MessageBatch(BaseModel):
    """POST /nodes/consensus-messages: messages the caller's validator signed or received,
    stored all or none."""

    model_config = ConfigDict(extra="forbid")

    messages: list[MessageReport] = Field(min_length=1, max_length=MAX_MESSAGES)


INSERT_SQL = """
INSERT INTO consensus_messages (feed, round, view, phase, sender, digest, signed_digest,
                                signature, text, reporter, seen_at)
SELECT f, n, v, p, s, d, h, g, t, %(reporter)s, w
  FROM unnest(%(feeds)s::text[], %(rounds)s::bigint[], %(views)s::bigint[],
              %(phases)s::text[], %(senders)s::text[], %(digests)s::text[],
              %(hashes)s::bytea[], %(signatures)s::bytea[], %(texts)s::text[],
              %(seen)s::timestamptz[]) AS m(f, n, v, p, s, d, h, g, t, w)
ON CONFLICT (reporter, feed, signed_digest) DO NOTHING
"""


async def record(backend: Backend, caller: Caller, batch: MessageBatch) -> int:
    """Store the messages the caller's validator reports, all or none; how many were new."""
    await authz.require_license(backend, caller, NodeType.VALIDATOR)
    messages = batch.messages
    feeds = backend.deployment.feeds()
    read = [_read(index, item, feeds) for index, item in enumerate(messages)]
    hashes = [consensus_text.signed_digest(backend.chain_id, item.text) for item in messages]
    signatures = [bytes.fromhex(item.signature[2:]) for item in messages]
    await asyncio.to_thread(_check_signatures, read, hashes, signatures)
    rounds = [(item.feed, text.round) for item, text in zip(messages, read, strict=True)]
    anchors = await message_bounds.check_window(backend, rounds)
    async with backend.db.transaction() as conn:
        await message_bounds.lock_reporter(conn, caller.address.lower())
        cursor = await conn.execute(INSERT_SQL, {
            "reporter": caller.address.lower(), "feeds": [item.feed for item in messages],
            "rounds": [item.round for item in read], "views": [item.view for item in read],
            "phases": [item.phase for item in read],
            "senders": [item.sender.lower() for item in read],
            "digests": [item.digest for item in read], "hashes": hashes,
            "signatures": signatures, "texts": [item.text for item in messages],
            "seen": [item.seen_at for item in messages]})
        await message_bounds.check_stored(conn, caller.address.lower(), rounds, anchors)
        return cursor.rowcount


def _read(index: int, item: MessageReport, feeds: dict[str, Any]) -> SignedText:
    if item.feed not in feeds:
        raise BadMessage(index, f"{item.feed!r} is not a feed of this deployment "
                                f"({', '.join(feeds) or 'it has none'})")
    try:
        read = consensus_text.read(item.text)
    except MalformedText as error:
        raise BadMessage(index, f"not a consensus message: {error}") from None
    if not 1 <= read.round <= UINT32_MAX:
        raise BadMessage(index, f"round {read.round} is not between 1 and 2**32 - 1")
    if read.view is not None and not read.round <= read.view <= MAX_VIEW:
        raise BadMessage(index, f"view {read.view} is not between round {read.round} and "
                                "2**62: the views of round r start at r")
    return read


def _check_signatures(read: list[SignedText], hashes: list[bytes],
                      signatures: list[bytes]) -> None:
    for index, (item, digest, signature) in enumerate(zip(read, hashes, signatures,
                                                          strict=True)):
        if consensus_text.signer(digest, signature) != item.sender.lower():
            raise BadMessage(index, f"{item.phase} of round {item.round} is not signed by "
                                    f"its sender {item.sender}")


# the public read
MESSAGES_SQL = """
SELECT id, feed, round, view, phase, sender, digest, signed_digest, signature, text, reporter,
       seen_at, recorded_at
  FROM consensus_messages
 WHERE feed = %(feed)s AND round = %(round)s {filters}
 ORDER BY recorded_at DESC, id DESC
 LIMIT %(limit)s
"""
MESSAGE_FILTERS = {"phase": "phase = %(phase)s", "view": "view = %(view)s",
                   "sender": "sender = %(sender)s", "reporter": "reporter = %(reporter)s"}


async def messages(db: Database, feed: str, round_number: int, filters: dict[str, Any],
                   before: tuple[datetime, int] | None, limit: int) -> list[Row]:
    """Up to `limit` stored messages of round `round_number` of `feed`, newest first, older
    than the (recorded_at, id) position `before`; `filters` by MESSAGE_FILTERS name, None
    ignored."""
    given = {name: value for name, value in filters.items() if value is not None}
    for name in ("sender", "reporter"):
        if name in given:
            given[name] = given[name].lower()
    clauses = [MESSAGE_FILTERS[name] for name in MESSAGE_FILTERS if name in given]
    params: dict[str, Any] = {**given, "feed": feed, "round": round_number, "limit": limit}
    if before is not None:
        params["before_at"], params["before_id"] = before
        clauses.append("(recorded_at, id) < (%(before_at)s, %(before_id)s)")
    where = "".join(f" AND {clause}" for clause in clauses)
    rows = await db.fetch(MESSAGES_SQL.format(filters=where), params)
    return [_message(row) for row in rows]


def _message(row: Row) -> Row:
    sender, reporter = row.pop("sender"), row.pop("reporter")
    return {**row, "sender": to_checksum_address(sender),
            "reported_by": to_checksum_address(reporter),
            "direction": "sent" if sender == reporter else "received",
            "signed_digest": "0x" + bytes(row["signed_digest"]).hex(),
            "signature": "0x" + bytes(row["signature"]).hex()}


VIEW_CHANGES_SQL = """
SELECT m.feed, m.round, m.reporter, m.view, array_agg(DISTINCT m.sender) AS senders
  FROM consensus_messages m
  JOIN unnest(%(feeds)s::text[], %(rounds)s::bigint[], %(reporters)s::text[])
       AS k(feed, round, reporter)
    ON m.feed = k.feed AND m.round = k.round AND m.reporter = k.reporter
 WHERE m.phase = 'view_change'
 GROUP BY m.feed, m.round, m.reporter, m.view
 ORDER BY m.view
"""


async def view_changes(db: Database, rounds: list[Row]) -> dict[tuple[str, int, str], list[Row]]:
    """For each (feed, round, lowercase reporter) of `rounds`, the view changes that reporter
    signed or received: each asked-for view with its askers, views ascending."""
    if not rounds:
        return {}
    rows = await db.fetch(VIEW_CHANGES_SQL, {
        "feeds": [row["feed"] for row in rounds], "rounds": [row["round"] for row in rounds],
        "reporters": [row["reported_by"].lower() for row in rounds]})
    found: dict[tuple[str, int, str], list[Row]] = {}
    for row in rows:
        found.setdefault((row["feed"], row["round"], row["reporter"]), []).append(
            {"view": row["view"], "senders": sorted(to_checksum_address(sender)
                                                    for sender in row["senders"])})
    return found
