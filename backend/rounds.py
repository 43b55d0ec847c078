"""The validators' consensus rounds as the backend keeps them, and as anyone may read them.

- A validator node (a holder of an active Validator license now) posts what it decided for
  each round of a feed: the view and leader it decided in, the report (answer, observation
  time), the signatures it collected, and whether the round landed as far as it saw
  (`agreed`, then `transmitted` or `failed`). Rows are keyed by (feed, round, reporter): a
  batch posted again stores nothing new; a later word may advance the status and the
  signers, never change the claim (view, leader, answer, observation time): that is a 409.
- What landed is the chain's word, never a node's: a round is `transmitted` when the feed's
  `Transmitted` event of that round is in the mirror, with its transaction hash, answer and
  signers from the event (backend/mirror.py joins them). Until then it is what the reporter
  says: `failed` if it said so, else `agreed`.
- Each row carries the view changes its reporter signed or received for the round
  (`view_changes_seen`: each asked-for view and who asked), from the stored consensus
  messages (backend/consensus_messages.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from eth_utils import to_checksum_address
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from backend import authz, consensus_messages, mirror
from backend.caller import Caller
from backend.consensus_messages import CLOCK_SKEW, EARLIEST, UINT32_MAX, Feed, Row
from backend.context import Backend
from backend.database import Database
from backend.errors import Conflict, Refused
from noderr.domain import NodeType

ReportedStatus = Literal["agreed", "transmitted", "failed"]
MAX_ROUNDS = 100
MAX_SIGNERS = 64
"""NodeFeed.MAX_SIGNERS: no report carries more signatures."""
INT192 = 2**191
Address = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]


class RoundReport(BaseModel):
    """One round of one feed as the reporting validator decided it."""

    model_config = ConfigDict(extra="forbid")

    feed: Feed = Field(description="A feed of the deployment.")
    round: int = Field(ge=1, le=UINT32_MAX)
    view: int | None = Field(None, ge=0, le=2**62,
                             description="The view it decided in (views of round r start at "
                                         "r); null when it caught up from others' commits.")
    leader: Address | None = Field(None, description="The leader of that view.")
    answer: int = Field(ge=-INT192, le=INT192 - 1, description="The report's answer (int192).")
    observed_at: int = Field(ge=0, le=UINT32_MAX)
    signers: list[Address] = Field(max_length=MAX_SIGNERS,
                                   description="The validators whose report signatures it "
                                               "holds.")
    status: ReportedStatus
    decided_at: AwareDatetime = Field(description="RFC 3339, with its UTC offset.")

    @model_validator(mode="after")
    def _consistent(self) -> RoundReport:
        if self.view is not None and self.view < self.round:
            raise ValueError(f"view {self.view} is below round {self.round}: the views of "
                             "round r start at r")
        if (self.view is None) != (self.leader is None):
            raise ValueError("a view and its leader come together")
        if len({signer.lower() for signer in self.signers}) != len(self.signers):
            raise ValueError("a signer is named twice")
        if not EARLIEST <= self.decided_at <= datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("decided_at is not between 2000 and a day ahead of the server's "
                             "clock")
        return self


class RoundBatch(BaseModel):
    """POST /nodes/rounds: rounds the caller's validator decided, stored all or none."""

    model_config = ConfigDict(extra="forbid")

    rounds: list[RoundReport] = Field(min_length=1, max_length=MAX_ROUNDS)


class BadRound(Refused):
    """A round of the batch the deployment or the batch itself contradicts; `index` is its
    place."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


UPSERT_SQL = """
INSERT INTO consensus_rounds AS r (feed, feed_address, round, reporter, view, leader, answer,
                                   observed_at, signers, status, decided_at)
SELECT f, a, n, %(reporter)s, v, l, x, o, string_to_array(s, ','), st, d
  FROM unnest(%(feeds)s::text[], %(addresses)s::text[], %(rounds)s::bigint[],
              %(views)s::bigint[], %(leaders)s::text[], %(answers)s::numeric[],
              %(observed)s::bigint[], %(signers)s::text[], %(statuses)s::text[],
              %(decided)s::timestamptz[]) AS t(f, a, n, v, l, x, o, s, st, d)
ON CONFLICT (feed, round, reporter) DO UPDATE SET
    status = CASE WHEN EXCLUDED.status = 'agreed' OR r.status = 'transmitted' THEN r.status
                  ELSE EXCLUDED.status END,
    signers = EXCLUDED.signers, updated_at = now()
  WHERE (r.view, r.leader, r.answer, r.observed_at)
        IS NOT DISTINCT FROM (EXCLUDED.view, EXCLUDED.leader, EXCLUDED.answer,
                              EXCLUDED.observed_at)
RETURNING r.feed, r.round
"""
"""A reporter's status only advances (agreed -> transmitted or failed; failed ->
transmitted); a stored claim that differs returns no row."""


async def record(backend: Backend, caller: Caller, batch: RoundBatch) -> int:
    """Store the rounds of the caller's validator, all or none; how many."""
    await authz.require_license(backend, caller, NodeType.VALIDATOR)
    addresses = _feed_addresses(backend, batch)
    rounds = batch.rounds
    async with backend.db.transaction() as conn:
        stored = await (await conn.execute(UPSERT_SQL, {
            "reporter": caller.address.lower(), "feeds": [item.feed for item in rounds],
            "addresses": addresses, "rounds": [item.round for item in rounds],
            "views": [item.view for item in rounds],
            "leaders": [item.leader and item.leader.lower() for item in rounds],
            "answers": [item.answer for item in rounds],
            "observed": [item.observed_at for item in rounds],
            "signers": [",".join(signer.lower() for signer in item.signers) for item in rounds],
            "statuses": [item.status for item in rounds],
            "decided": [item.decided_at for item in rounds]})).fetchall()
        kept = {(row["feed"], row["round"]) for row in stored}
        for item in rounds:
            if (item.feed, item.round) not in kept:
                raise Conflict(f"round {item.round} of {item.feed} is stored with another "
                               "view, leader, answer or observation time: a decision does not "
                               "change")
    return len(rounds)


def _feed_addresses(backend: Backend, batch: RoundBatch) -> list[str]:
    """Each round's feed contract address, lowercase; BadRound for a feed the deployment does
    not have, or a round named twice."""
    feeds = backend.deployment.feeds()
    seen: set[tuple[str, int]] = set()
    addresses = []
    for index, item in enumerate(batch.rounds):
        if item.feed not in feeds:
            raise BadRound(index, f"{item.feed!r} is not a feed of this deployment "
                                  f"({', '.join(feeds) or 'it has none'})")
        if (item.feed, item.round) in seen:
            raise BadRound(index, f"round {item.round} of {item.feed} twice in the batch")
        seen.add((item.feed, item.round))
        addresses.append(feeds[item.feed].address.lower())
    return addresses


# the public read
async def rounds(db: Database, chain_id: int, filters: dict[str, Any],
                 before: tuple[datetime, int] | None, limit: int) -> list[Row]:
    """Up to `limit` reported rounds, newest first, older than the (recorded_at, id) position
    `before`, with what the chain says of them (module docstring)."""
    rows = [_round(row) for row in
            await mirror.consensus_rounds(db, chain_id, filters, before, limit)]
    seen = await consensus_messages.view_changes(db, rows)
    for row in rows:
        row["view_changes_seen"] = seen.get(
            (row["feed"], row["round"], row["reported_by"].lower()), [])
    return rows


def _round(row: Row) -> Row:
    event = row["transmitted"]
    reported = {"value": str(row["answer"]), "observed_at": row["observed_at"],
                "signers": [to_checksum_address(signer) for signer in row["signers"]]}
    if event is None:
        status = "failed" if row["status"] == "failed" else "agreed"
        landed = {**reported, "transmit_tx_hash": None, "transmitter": None,
                  "block_number": None, "agrees_with_chain": None}
    else:
        args = event["args"]
        status = "transmitted"
        landed = {"value": str(args["answer"]), "observed_at": int(args["observed_at"]),
                  "signers": [to_checksum_address(signer) for signer in args["signers"]],
                  "transmit_tx_hash": event["tx_hash"],
                  "transmitter": to_checksum_address(args["transmitter"]),
                  "block_number": event["block_number"]}
        landed["agrees_with_chain"] = (landed["value"], landed["observed_at"]) == \
            (reported["value"], reported["observed_at"])
    return {"id": row["id"], "feed": row["feed"],
            "feed_address": to_checksum_address(row["feed_address"]), "round": row["round"],
            "view": row["view"],
            "view_changes": None if row["view"] is None else row["view"] - row["round"],
            "leader": row["leader"] and to_checksum_address(row["leader"]),
            "status": status, "reported_status": row["status"],
            "reported_by": to_checksum_address(row["reporter"]),
            "decided_at": row["decided_at"], "recorded_at": row["recorded_at"], **landed}
