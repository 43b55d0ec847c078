"""Postgres writes: raw events by COPY, projections, block hashes, checkpoint and status,
all in one transaction per batch, so a crash at any moment leaves the previous batch whole."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
import psycopg

from indexer.decode import Event
from indexer.health import Status, write_status
from indexer.projections import RELEVANT_EVENTS, Projector, projection_key

LOCK_NAMESPACE = 0x4E4F4452  # "NODR": advisory lock (namespace, chain id) = "the writer"
EVENT_COLUMNS = ("block_number, block_hash, block_timestamp, tx_hash, tx_index, log_index,"
                 " contract_name, contract_address, event_name, args, topics, data")
COPY_EVENTS = f"COPY chain_events (chain_id, {EVENT_COLUMNS}) FROM STDIN"


class StoreError(RuntimeError):
    """The database is not in the state this indexer expects; the message says why."""


@dataclass(frozen=True)
class Checkpoint:
    block_number: int
    block_hash: str


@dataclass(frozen=True)
class Block:
    number: int
    hash: str
    parent_hash: str


def acquire_writer_lock(conn: psycopg.Connection, chain_id: int) -> None:
    """Session-level advisory lock on the connection that writes: two indexers never both do."""
    row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, chain_id))
    locked = row.fetchone()[0]
    conn.commit()
    if not locked:
        raise StoreError(f"another indexer is writing chain {chain_id} to this database "
                         "(advisory lock held): stop it first")


def load_checkpoint(conn: psycopg.Connection, chain_id: int) -> Checkpoint | None:
    row = conn.execute("SELECT block_number, block_hash FROM indexer_checkpoints"
                       " WHERE chain_id = %s", (chain_id,)).fetchone()
    conn.commit()
    return Checkpoint(*row) if row else None


def load_block_hashes(conn: psycopg.Connection, chain_id: int) -> dict[int, str]:
    rows = conn.execute("SELECT block_number, block_hash FROM indexer_blocks WHERE chain_id = %s",
                        (chain_id,)).fetchall()
    conn.commit()
    return dict(rows)


class Store:
    """The writer for one chain; every public method is one transaction."""

    def __init__(self, conn: psycopg.Connection, chain_id: int, projector: Projector,
                 max_lag_blocks: int) -> None:
        self.conn, self.chain_id, self.projector = conn, chain_id, projector
        self.max_lag_blocks = max_lag_blocks

    def write_batch(self, events: Sequence[Event], blocks: Sequence[Block], previous: Checkpoint,
                    checkpoint: Checkpoint, status: Status, keep_from: int) -> None:
        """Rows, projections, recent block hashes, checkpoint and status, atomically."""
        with self.conn.transaction(), self.conn.cursor() as cur:
            self._copy_events(cur, events)
            self.projector.apply(cur, events)
            self._save_blocks(cur, blocks, keep_from)
            self._move_checkpoint(cur, previous, checkpoint)
            write_status(cur, self.chain_id, status, self.max_lag_blocks)

    def start(self, checkpoint: Checkpoint) -> None:
        """The first checkpoint: the block before the deployment."""
        with self.conn.transaction():
            self.conn.execute(
                "INSERT INTO indexer_checkpoints (chain_id, block_number, block_hash)"
                " VALUES (%s, %s, %s)", (self.chain_id, checkpoint.block_number,
                                         checkpoint.block_hash))

    def save_status(self, status: Status) -> None:
        with self.conn.transaction(), self.conn.cursor() as cur:
            write_status(cur, self.chain_id, status, self.max_lag_blocks)

    def rollback_to(self, previous: Checkpoint, ancestor: Checkpoint) -> int:
        """Undo every row above `ancestor` (a reorg); return how many events were removed."""
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(f"DELETE FROM chain_events WHERE chain_id = %s AND block_number > %s"
                        f" RETURNING {EVENT_COLUMNS}", (self.chain_id, ancestor.block_number))
            removed = [Event(*row) for row in cur.fetchall()]
            keys = {key for key in map(projection_key, removed) if key is not None}
            self._replay(cur, keys)
            cur.execute("DELETE FROM indexer_blocks WHERE chain_id = %s AND block_number > %s",
                        (self.chain_id, ancestor.block_number))
            self._move_checkpoint(cur, previous, ancestor)
            cur.execute("UPDATE indexer_status SET reorgs = reorgs + 1 WHERE chain_id = %s",
                        (self.chain_id,))
        return len(removed)

    def rebuild(self) -> int:
        """Recompute every projection from chain_events alone; return the events replayed."""
        with self.conn.transaction(), self.conn.cursor() as cur:
            self.projector.delete_all(cur)
            events = self._relevant_events(cur)
            return self.projector.apply(cur, events)

    def _replay(self, cur: psycopg.Cursor, keys: set) -> None:
        if not keys:
            return
        self.projector.delete(cur, keys)
        events = [e for e in self._relevant_events(cur) if projection_key(e) in keys]
        self.projector.apply(cur, events)

    def _relevant_events(self, cur: psycopg.Cursor) -> list[Event]:
        cur.execute(f"SELECT {EVENT_COLUMNS} FROM chain_events WHERE chain_id = %s"
                    f" AND event_name = ANY(%s) ORDER BY block_number, log_index",
                    (self.chain_id, RELEVANT_EVENTS))
        return [Event(*row) for row in cur.fetchall()]

    def _copy_events(self, cur: psycopg.Cursor, events: Sequence[Event]) -> None:
        if not events:
            return
        chain_id, dumps = self.chain_id, orjson.dumps
        with cur.copy(COPY_EVENTS) as copy:
            for e in events:
                args = None if e.args is None else dumps(e.args).decode()
                copy.write_row((chain_id, *e[:9], args, e.topics, e.data))

    def _save_blocks(self, cur: psycopg.Cursor, blocks: Sequence[Block], keep_from: int) -> None:
        if blocks:
            cur.executemany(
                "INSERT INTO indexer_blocks (chain_id, block_number, block_hash, parent_hash)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (chain_id, block_number) DO UPDATE SET"
                " block_hash = EXCLUDED.block_hash, parent_hash = EXCLUDED.parent_hash",
                [(self.chain_id, b.number, b.hash, b.parent_hash) for b in blocks])
        cur.execute("DELETE FROM indexer_blocks WHERE chain_id = %s AND block_number < %s",
                    (self.chain_id, keep_from))

    def _move_checkpoint(self, cur: psycopg.Cursor, previous: Checkpoint,
                         checkpoint: Checkpoint) -> None:
        """Compare-and-set: if the checkpoint is not where this writer left it, stop."""
        cur.execute("UPDATE indexer_checkpoints SET block_number = %s, block_hash = %s,"
                    " updated_at = now() WHERE chain_id = %s AND block_number = %s"
                    " AND block_hash = %s", (checkpoint.block_number, checkpoint.block_hash,
                                             self.chain_id, previous.block_number,
                                             previous.block_hash))
        if cur.rowcount != 1:
            raise StoreError(f"the checkpoint of chain {self.chain_id} moved under this indexer"
                             " (another writer?): stopping without writing")

