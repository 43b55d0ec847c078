"""How healthy the mirror is: the `indexer_status` row (read by the backend before it trusts
the projections), Prometheus metrics (HTTP endpoint or textfile) and a periodic log line."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    start_http_server,
    write_to_textfile,
)

log = logging.getLogger("noderr.indexer")


@dataclass
class Status:
    head_block: int
    indexed_block: int
    lag_seconds: float
    events_per_second: float

    @property
    def lag_blocks(self) -> int:
        return max(0, self.head_block - self.indexed_block)


@dataclass(frozen=True)
class Health:
    """The status row as a reader sees it."""

    head_block: int
    indexed_block: int
    lag_blocks: int
    lag_seconds: float
    events_per_second: float
    reorgs: int
    max_lag_blocks: int
    seconds_since_update: float

    def trusted(self, max_lag_blocks: int | None = None, max_silence: float = 60.0) -> bool:
        """True when the mirror is close enough to the head to authorize from, and alive."""
        limit = self.max_lag_blocks if max_lag_blocks is None else max_lag_blocks
        return self.lag_blocks <= limit and self.seconds_since_update <= max_silence


def write_status(cur: psycopg.Cursor, chain_id: int, status: Status, max_lag_blocks: int) -> None:
    cur.execute(
        "INSERT INTO indexer_status (chain_id, head_block, indexed_block, lag_blocks,"
        " lag_seconds, events_per_second, max_lag_blocks, updated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, now()) ON CONFLICT (chain_id) DO UPDATE SET"
        " head_block = EXCLUDED.head_block, indexed_block = EXCLUDED.indexed_block,"
        " lag_blocks = EXCLUDED.lag_blocks, lag_seconds = EXCLUDED.lag_seconds,"
        " events_per_second = EXCLUDED.events_per_second,"
        " max_lag_blocks = EXCLUDED.max_lag_blocks, updated_at = now()",
        (chain_id, status.head_block, status.indexed_block, status.lag_blocks,
         status.lag_seconds, status.events_per_second, max_lag_blocks))


def read_health(conn: psycopg.Connection, chain_id: int) -> Health | None:
    """The mirror's health for `chain_id`, or None if no indexer ever ran for it."""
    row = conn.execute(
        "SELECT head_block, indexed_block, lag_blocks, lag_seconds, events_per_second, reorgs,"
        " max_lag_blocks, extract(epoch FROM now() - updated_at)::float8"
        " FROM indexer_status WHERE chain_id = %s", (chain_id,)).fetchone()
    return Health(*row) if row else None


class Metrics:
    """Prometheus metrics of one indexer process, in a registry of its own."""

    def __init__(self, chain_id: int) -> None:
        self.registry = CollectorRegistry()
        labels = {"labelnames": ["chain_id"], "registry": self.registry}
        self.head = Gauge("noderr_indexer_head_block", "Chain head seen.", **labels)
        self.indexed = Gauge("noderr_indexer_indexed_block", "Last indexed block.", **labels)
        self.lag_blocks = Gauge("noderr_indexer_lag_blocks", "Head minus indexed.", **labels)
        self.lag_seconds = Gauge("noderr_indexer_lag_seconds", "Head time minus indexed.",
                                 **labels)
        self.max_lag = Gauge("noderr_indexer_max_lag_blocks", "NODERR_MAX_LAG_BLOCKS: the lag "
                             "past which the API refuses gated requests (503).", **labels)
        self.rate = Gauge("noderr_indexer_events_per_second", "Recent events/s.", **labels)
        self.events = Counter("noderr_indexer_events", "Events written.", **labels)
        self.reorgs = Counter("noderr_indexer_reorgs", "Reorgs undone.", **labels)
        self.retries = Counter("noderr_indexer_rpc_retries", "RPC calls retried.", **labels)
        self.chain_id = str(chain_id)
        self.textfile: Path | None = None
        self._last_log = 0.0

    def serve(self, port: int) -> None:
        start_http_server(port, addr="127.0.0.1", registry=self.registry)

    def limit(self, max_lag_blocks: int) -> None:
        self.max_lag.labels(self.chain_id).set(max_lag_blocks)

    def update(self, status: Status, new_events: int = 0) -> None:
        c = self.chain_id
        self.head.labels(c).set(status.head_block)
        self.indexed.labels(c).set(status.indexed_block)
        self.lag_blocks.labels(c).set(status.lag_blocks)
        self.lag_seconds.labels(c).set(status.lag_seconds)
        self.rate.labels(c).set(status.events_per_second)
        self.events.labels(c).inc(new_events)
        if self.textfile is not None:
            write_to_textfile(str(self.textfile), self.registry)
        now = time.monotonic()
        if now - self._last_log >= 10:
            self._last_log = now
            log.info("head %d, indexed %d, lag %d blocks (%.0fs), %.0f events/s",
                     status.head_block, status.indexed_block, status.lag_blocks,
                     status.lag_seconds, status.events_per_second)
