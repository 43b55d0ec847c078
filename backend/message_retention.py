"""Retention of the validators' consensus messages: the prune (the API's periodic one, or
`noderr db prune`) deletes those recorded more than NODERR_CONSENSUS_RETENTION_DAYS days ago
(default 7), and nothing else.

At n = 4 the table grows by about 1.1 million rows a day per feed (docs/consensus.md), so
without pruning it outgrows everything else the backend keeps. Rounds (consensus_rounds, one
row per reporter and round) are small and stay, so `GET /network/rounds` still tells what was
decided, by whom and what landed; the chain keeps every transmitted report and its signers for
good. What goes is the message-by-message trail of how a round was agreed. Seven days: long
enough to investigate an incident after a weekend (a view-change storm, a leader that
equivocated: double-sign evidence is a pair of signed messages, taken from here into a
governance proposal, whose voting and timelock run in hours), short enough to hold the table
near 8 million rows per feed. A deployment that must keep the trail longer sets the setting,
or copies the rows out before pruning.

The cut-off is fixed when the prune starts (the database's clock, the clock `recorded_at`
uses), and rows go oldest first in batches of BATCH, each its own transaction through the
index on recorded_at (migration 0010_consensus_message_bounds): a prune can be stopped and
run again, and a second run deletes nothing new.

The API runs it by itself every NODERR_CONSENSUS_PRUNE_EVERY_S seconds
(backend/periodic_prune.py); `prune_exclusively` is that prune, which skips while another
process holds PRUNE_LOCK, so API workers never prune at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

BATCH = 10_000


class RetentionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NODERR_", extra="ignore")

    consensus_retention_days: int = Field(
        7, ge=1, description="Days the validators' consensus messages are kept (by the API's "
                             "periodic prune and `noderr db prune`).")
    consensus_prune_every_s: float = Field(
        3600, ge=0, description="Seconds between the prunes each API process runs by itself "
                                "(one at a time across processes; 0: off, for a deployment "
                                "that runs `noderr db prune` from cron).")


PRUNE_LOCK = "hashtext('noderr.consensus_prune')"
TRY_LOCK_SQL = f"SELECT pg_try_advisory_lock({PRUNE_LOCK})"
UNLOCK_SQL = f"SELECT pg_advisory_unlock({PRUNE_LOCK})"
CUTOFF_SQL = "SELECT now() - %(days)s::int * interval '1 day' AS cutoff"
COUNT_SQL = "SELECT count(*) AS older FROM consensus_messages WHERE recorded_at < %(cutoff)s"
DELETE_SQL = """
DELETE FROM consensus_messages WHERE id IN (
    SELECT id FROM consensus_messages WHERE recorded_at < %(cutoff)s
     ORDER BY recorded_at LIMIT %(batch)s)
"""


def cutoff(conn: psycopg.Connection[Any], days: int) -> datetime:
    """The database's now, less `days` days."""
    return conn.execute(CUTOFF_SQL, {"days": days}).fetchone()[0]


def count_older(conn: psycopg.Connection[Any], before: datetime) -> int:
    """How many consensus messages were recorded before `before`."""
    return conn.execute(COUNT_SQL, {"cutoff": before}).fetchone()[0]


def prune(conn: psycopg.Connection[Any], before: datetime,
          progress: Callable[[int], None] = lambda deleted: None, batch: int = BATCH) -> int:
    """Delete the consensus messages recorded before `before`, `batch` rows per transaction
    (`conn` in autocommit mode, so each batch commits), calling `progress` with each batch's
    count; how many it deleted."""
    deleted = 0
    while True:
        with conn.transaction():
            gone = conn.execute(DELETE_SQL, {"cutoff": before, "batch": batch}).rowcount
        if not gone:
            return deleted
        deleted += gone
        progress(gone)


def prune_exclusively(conn: psycopg.Connection[Any], days: int,
                      progress: Callable[[int], None] = lambda deleted: None
                      ) -> tuple[datetime, int] | None:
    """Prune the messages older than `days` days as `prune` does: the cut-off and how many it
    deleted; None, deleting nothing, while another session holds PRUNE_LOCK (its prune is
    under way)."""
    with _holding_prune_lock(conn) as held:
        if not held:
            return None
        before = cutoff(conn, days)
        return before, prune(conn, before, progress)


@contextmanager
def _holding_prune_lock(conn: psycopg.Connection[Any]) -> Iterator[bool]:
    """Whether this session took PRUNE_LOCK (try-lock: never waits), released on leaving."""
    held = conn.execute(TRY_LOCK_SQL).fetchone()[0]
    try:
        yield held
    finally:
        if held and not conn.closed and not conn.broken:
            conn.execute(UNLOCK_SQL)
