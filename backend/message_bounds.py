"""How many consensus messages one validator may store, and where the backend refuses more.

A validator can sign as many distinct valid messages as it likes (other views, rounds far
ahead or behind) and post them 200 at a time; each would be a row. So what one reporter
stores is bounded, and a batch past a bound is refused whole (BadMessage: 422 naming the
message and the limit; an honest node drops such a batch rather than retrying it):

- ROUND_WINDOW: rounds within 1,000 of the feed's latest round on chain (its newest indexed
  `Transmitted`, the chain's word, not a validator's). An honest node reports within seconds
  of a round, and its queue holds at most 5,000 messages (node/runtime/reporting.py: under
  400 rounds behind even at 13 rows a round); 1,000 rounds ahead outlasts a stall of an hour
  at one round every 4 s (and the indexer's lag).
- MAX_PER_ROUND: at most 256 rows per (reporter, feed, round). A reporter stores each distinct
  message of a round once: at most 41 measured at n = 7 with a view change in the round
  (docs/consensus.md); each further view change adds about 23 at n = 7, so 256 leaves room
  for about nine more.
- MAX_BEFORE_FIRST_ROUND: before a feed's first round lands the chain gives no anchor, so a
  reporter's rows of that feed are capped at 50,000 in all (about 1,200 rounds at 41).

So one reporter holds at most about 2,001 x 256, about 512,000 rows of a feed at a time, however
it signs, and gains at most 256 a round as the chain moves on (the honest rate at n = 4 is 13);
retention (`noderr db prune`, backend/message_retention.py) removes them with the rest. A
reporter's batches are serialised by a transaction-scoped advisory lock, so two concurrent
batches cannot both pass the count. The counts read the index on (reporter, feed, round)
(migration 0010_consensus_message_bounds)."""

from __future__ import annotations

from typing import Any

import psycopg

from backend.context import Backend
from backend.errors import Refused

ROUND_WINDOW = 1_000
MAX_PER_ROUND = 256
MAX_BEFORE_FIRST_ROUND = 50_000
Rounds = list[tuple[str, int]]
"""The (feed, round) of each message of a batch, in order."""


class BadMessage(Refused):
    """A message of the batch that is malformed, of a feed the deployment lacks, not signed by
    the sender it names, or past a bound; `index` is its place."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


LATEST_ROUNDS_SQL = """
SELECT k.feed, t.round
  FROM unnest(%(feeds)s::text[], %(addresses)s::text[]) AS k(feed, address)
  CROSS JOIN LATERAL (
    SELECT (e.args ->> 'round')::bigint AS round FROM chain_events e
     WHERE e.chain_id = %(chain_id)s AND e.contract_address = k.address
       AND e.event_name = 'Transmitted'
     ORDER BY e.block_number DESC, e.log_index DESC LIMIT 1) AS t
"""
"""A feed's rounds strictly increase on chain, so its newest Transmitted event holds its latest
round (through the index on (chain_id, contract_address, block_number))."""
LOCK_SQL = ("SELECT pg_advisory_xact_lock("
            "hashtextextended('consensus_messages:' || %(reporter)s, 0))")
PER_ROUND_SQL = """
SELECT m.feed, m.round
  FROM consensus_messages m
  JOIN (SELECT DISTINCT * FROM unnest(%(feeds)s::text[], %(rounds)s::bigint[]))
       AS k(feed, round)
    ON m.feed = k.feed AND m.round = k.round
 WHERE m.reporter = %(reporter)s
 GROUP BY m.feed, m.round
HAVING count(*) > %(limit)s
"""
PER_FEED_SQL = """
SELECT f.feed FROM unnest(%(feeds)s::text[]) AS f(feed)
 WHERE (SELECT count(*) FROM consensus_messages m
         WHERE m.reporter = %(reporter)s AND m.feed = f.feed) > %(limit)s
"""


async def check_window(backend: Backend, rounds: Rounds) -> dict[str, int]:
    """Each feed's latest round on chain (a feed none landed for is absent); BadMessage for the
    first message of a round more than ROUND_WINDOW from it."""
    latest = await _latest_rounds(backend, {feed for feed, _ in rounds})
    for index, (feed, number) in enumerate(rounds):
        anchor = latest.get(feed)
        if anchor is not None and abs(number - anchor) > ROUND_WINDOW:
            raise BadMessage(index, f"round {number} of {feed} is more than {ROUND_WINDOW} "
                                    f"rounds (ROUND_WINDOW) from its latest round on chain, "
                                    f"{anchor}")
    return latest


async def _latest_rounds(backend: Backend, feeds: set[str]) -> dict[str, int]:
    known = backend.deployment.feeds()
    names = sorted(feeds)
    rows = await backend.db.fetch(LATEST_ROUNDS_SQL, {
        "feeds": names, "addresses": [known[name].address.lower() for name in names],
        "chain_id": backend.chain_id})
    return {row["feed"]: row["round"] for row in rows}


async def lock_reporter(conn: psycopg.AsyncConnection[Any], reporter: str) -> None:
    """Hold `reporter`'s batches back until this transaction ends."""
    await conn.execute(LOCK_SQL, {"reporter": reporter})


async def check_stored(conn: psycopg.AsyncConnection[Any], reporter: str, rounds: Rounds,
                       anchors: dict[str, int]) -> None:
    """After the batch's insert, in its transaction: BadMessage (rolling it back) for the first
    message of a round now holding more than MAX_PER_ROUND rows of `reporter`, or of a feed
    without an anchor on chain holding more than MAX_BEFORE_FIRST_ROUND."""
    full = await (await conn.execute(PER_ROUND_SQL, {
        "reporter": reporter, "feeds": [feed for feed, _ in rounds],
        "rounds": [number for _, number in rounds], "limit": MAX_PER_ROUND})).fetchall()
    if full:
        feed, number = full[0]["feed"], full[0]["round"]
        raise BadMessage(rounds.index((feed, number)),
                         f"round {number} of {feed} would hold more than {MAX_PER_ROUND} "
                         "messages (MAX_PER_ROUND) reported by this validator")
    unanchored = sorted({feed for feed, _ in rounds} - anchors.keys())
    if not unanchored:
        return
    over = await (await conn.execute(PER_FEED_SQL, {
        "reporter": reporter, "feeds": unanchored, "limit": MAX_BEFORE_FIRST_ROUND})).fetchall()
    if over:
        feed = over[0]["feed"]
        raise BadMessage(next(index for index, (name, _) in enumerate(rounds) if name == feed),
                         f"{feed} has no round on chain yet and would hold more than "
                         f"{MAX_BEFORE_FIRST_ROUND} messages (MAX_BEFORE_FIRST_ROUND) reported "
                         "by this validator")
