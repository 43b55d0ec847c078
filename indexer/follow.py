"""The indexing loop: backfill finalized blocks fast, follow the unfinalized tip carefully.

Blocks at or below `head - finality_depth` are final by assumption: they are fetched in large
adaptive ranges, the next range prefetched in a thread while the current one is written, and
only the two boundary headers are read (to link the range to the checkpoint and to record
its last hash). Blocks above that line may still change: each one's header is read and
stored, the range must link to the checkpoint by parent hash, every log's block hash must
match, and the last header is read again after eth_getLogs so that logs and headers are known
to come from one chain. A parent-hash mismatch anywhere starts `_undo_reorg`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg
from tqdm import tqdm

from indexer.decode import Event, EventDecoder
from indexer.health import Metrics, Status
from indexer.projections import Projector, role_names
from indexer.reorg import ReorgTooDeep, find_common_ancestor
from indexer.rpc import RangeTooLarge, RpcClient
from indexer.settings import IndexerSettings
from indexer.store import (
    Block,
    Checkpoint,
    Store,
    StoreError,
    acquire_writer_lock,
    load_block_hashes,
    load_checkpoint,
)
from noderr.deployment import Deployment

log = logging.getLogger("noderr.indexer")
TIP_RANGE = 256  # most headers read in one batch near the head


class IndexerError(RuntimeError):
    """The indexer must stop; the message says why."""


@dataclass
class Batch:
    """What one eth_getLogs range gave: decoded events and the headers read around it."""

    first: int
    last: int
    events: list[Event]
    parent_hash: str  # of block `first`: must equal the checkpoint's hash
    last_hash: str
    last_timestamp: int
    blocks: list[Block] = field(default_factory=list)


class Indexer:
    """Mirrors one deployment into Postgres. `run(once=True)` catches up and returns."""

    def __init__(self, rpc_url: str, conn: psycopg.Connection, deployment: Deployment,
                 settings: IndexerSettings, *, progress: bool = False,
                 metrics: Metrics | None = None) -> None:
        self.settings, self.deployment, self.progress = settings, deployment, progress
        self.chain_id = deployment.chain_id
        self.metrics = metrics or Metrics(self.chain_id)
        self.metrics.limit(settings.max_lag_blocks)
        self.rpc = self._client(rpc_url)
        self._fetch_rpc = self._client(rpc_url)  # the prefetch thread's own connection
        self.decoder = EventDecoder(deployment)
        roles = role_names(abi for c in deployment.contracts.values() for abi in c.abi)
        self.conn = conn
        self.store = Store(conn, self.chain_id, Projector(self.chain_id, roles),
                           settings.max_lag_blocks)
        self.range = settings.initial_range
        self.checkpoint: Checkpoint | None = None
        self._rate = 0.0
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="getlogs")

    def _client(self, url: str) -> RpcClient:
        return RpcClient(url, timeout=self.settings.rpc_timeout,
                         attempts=self.settings.rpc_attempts,
                         on_retry=lambda: self.metrics.retries.labels(str(self.chain_id)).inc())

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.rpc.close()
        self._fetch_rpc.close()

    # The loop -----------------------------------------------------------------------------

    def run(self, once: bool = False, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        self._prepare()
        while not stop.is_set():
            head = self._head_checked()
            target = head["number"] - self.settings.confirmations
            if self.checkpoint.block_number < target:
                self._catch_up(head, target)
                continue
            self._save_idle_status(head)
            if once:
                return
            stop.wait(self.settings.poll_interval)

    def _prepare(self) -> None:
        chain_id = self.rpc.chain_id()
        if chain_id != self.chain_id:
            raise IndexerError(f"the RPC endpoint serves chain {chain_id}, the deployment file "
                               f"is for chain {self.chain_id}")
        acquire_writer_lock(self.conn, self.chain_id)
        self.checkpoint = load_checkpoint(self.conn, self.chain_id)
        if self.checkpoint is None:
            self.checkpoint = self._genesis_checkpoint()
            self.store.start(self.checkpoint)

    def _genesis_checkpoint(self) -> Checkpoint:
        number = self.deployment.start_block - 1
        header = self.rpc.headers([number])[number]
        if header is None:
            raise IndexerError(f"block {number} does not exist: is NODERR_RPC_URL the chain of "
                               f"the deployment file?")
        return Checkpoint(number, header["hash"])

    def _head_checked(self) -> dict[str, Any]:
        """The head, after making sure the checkpoint block is still canonical."""
        cp = self.checkpoint
        head, mine = self.rpc.batch([("eth_getBlockByNumber", ["latest", False]),
                                     ("eth_getBlockByNumber", [hex(cp.block_number), False])])
        if mine is None or mine["hash"] != cp.block_hash:
            self._undo_reorg()
            return self._head_checked()
        return {"number": int(head["number"], 16), "timestamp": int(head["timestamp"], 16)}

    def _catch_up(self, head: dict[str, Any], target: int) -> None:
        safe = min(target, head["number"] - self.settings.finality_depth)
        bar = self._progress_bar(target)
        try:
            if self.checkpoint.block_number < safe:
                self._backfill(safe, head, bar)
            while self.checkpoint.block_number < target:
                if not self._tip_step(target, head, bar):
                    return
        finally:
            if bar is not None:
                bar.close()

    # Finalized blocks: big ranges, prefetched ---------------------------------------------

    def _backfill(self, end: int, head: dict[str, Any], bar: tqdm | None) -> None:
        future = self._submit(self.checkpoint.block_number + 1, end)
        while future is not None:
            try:
                batch = future.result()
            except RangeTooLarge as error:
                self._shrink(error, self.checkpoint.block_number + 1)
                future = self._submit(self.checkpoint.block_number + 1, end)
                continue
            following = batch.last + 1
            future = self._submit(following, end) if following <= end else None
            if batch.parent_hash != self.checkpoint.block_hash:
                self._drain(future)
                self._undo_reorg()
                return
            self._write(batch, head, bar)
            self._adapt(len(batch.events), batch.last - batch.first + 1)

    def _submit(self, first: int, end: int) -> Future[Batch]:
        last = min(end, first + self.range - 1)
        return self._pool.submit(self._fetch_final, first, last)

    def _fetch_final(self, first: int, last: int) -> Batch:
        raw = self._fetch_rpc.get_logs(first, last, self.decoder.addresses)
        numbers = sorted({first - 1, first, last})
        headers = self._fetch_rpc.headers(numbers)
        if any(h is None for h in headers.values()):
            raise IndexerError(f"blocks {first}..{last} vanished below the finality depth")
        events = self._decode(raw, self._fetch_rpc)
        top = headers[last]
        return Batch(first, last, events, headers[first]["parentHash"], top["hash"],
                     int(top["timestamp"], 16))

    @staticmethod
    def _drain(future: Future[Batch] | None) -> None:
        if future is not None:
            with contextlib.suppress(Exception):
                future.result()

    # Unfinalized blocks: every header checked ---------------------------------------------

    def _tip_step(self, target: int, head: dict[str, Any], bar: tqdm | None) -> bool:
        """One verified range near the head; False when the caller should re-read the head."""
        first = self.checkpoint.block_number + 1
        last = min(target, first + min(self.range, TIP_RANGE) - 1)
        headers = self.rpc.headers(list(range(first, last + 1)))
        if any(h is None for h in headers.values()):
            return False
        if headers[first]["parentHash"] != self.checkpoint.block_hash:
            self._undo_reorg()
            return False
        if not _linked(headers, first, last):
            return False
        try:
            raw = self.rpc.get_logs(first, last, self.decoder.addresses)
        except RangeTooLarge as error:
            self._shrink(error, first)
            return True
        if not self._same_chain(raw, headers, last):
            return False
        blocks = [Block(n, h["hash"], h["parentHash"]) for n, h in headers.items()]
        times = {n: int(h["timestamp"], 16) for n, h in headers.items()}
        events = [self.decoder.decode(r, times[int(r["blockNumber"], 16)]) for r in raw]
        batch = Batch(first, last, events, headers[first]["parentHash"], headers[last]["hash"],
                      times[last], blocks)
        self._write(batch, head, bar)
        return True

    def _same_chain(self, raw: list[dict], headers: dict[int, dict], last: int) -> bool:
        """Logs and headers come from one chain: log block hashes match, `last` did not move."""
        for item in raw:
            if item["blockHash"] != headers[int(item["blockNumber"], 16)]["hash"]:
                return False
        again = self.rpc.headers([last])[last]
        return again is not None and again["hash"] == headers[last]["hash"]

    def _undo_reorg(self) -> None:
        stored = load_block_hashes(self.conn, self.chain_id)
        stored[self.checkpoint.block_number] = self.checkpoint.block_hash
        try:
            ancestor = find_common_ancestor(self.rpc, stored, self.checkpoint.block_number)
        except ReorgTooDeep as error:
            raise IndexerError(str(error)) from None
        removed = self.store.rollback_to(self.checkpoint, ancestor)
        log.warning("reorg: blocks %d..%d replaced; %d events undone, re-indexing from %d",
                    ancestor.block_number + 1, self.checkpoint.block_number, removed,
                    ancestor.block_number + 1)
        self.checkpoint = ancestor
        self.metrics.reorgs.labels(str(self.chain_id)).inc()

    # Shared -------------------------------------------------------------------------------

    def _decode(self, raw: list[dict], rpc: RpcClient) -> list[Event]:
        """Decode; fetch block timestamps for providers whose logs lack blockTimestamp."""
        missing = sorted({int(r["blockNumber"], 16) for r in raw if "blockTimestamp" not in r})
        if not missing:
            return [self.decoder.decode(r) for r in raw]
        times = {n: int(h["timestamp"], 16) for n, h in rpc.headers(missing).items() if h}
        return [self.decoder.decode(r, times.get(int(r["blockNumber"], 16))) for r in raw]

    def _write(self, batch: Batch, head: dict[str, Any], bar: tqdm | None) -> None:
        started = time.monotonic()
        checkpoint = Checkpoint(batch.last, batch.last_hash)
        status = self._status(head, batch.last, batch.last_timestamp)
        keep_from = head["number"] - self.settings.finality_depth
        try:
            self.store.write_batch(batch.events, batch.blocks, self.checkpoint, checkpoint,
                                   status, keep_from)
        except StoreError as error:
            raise IndexerError(str(error)) from None
        self.checkpoint = checkpoint
        self._measure(len(batch.events), time.monotonic() - started)
        self.metrics.update(status, len(batch.events))
        if bar is not None:
            bar.update(batch.last - batch.first + 1)
            bar.set_postfix(events=len(batch.events), ev_s=f"{self._rate:,.0f}", refresh=False)

    def _status(self, head: dict[str, Any], indexed: int, indexed_time: int) -> Status:
        return Status(head["number"], indexed, max(0, head["timestamp"] - indexed_time),
                      self._rate)

    def _save_idle_status(self, head: dict[str, Any]) -> None:
        status = Status(head["number"], self.checkpoint.block_number, 0.0, self._rate)
        if head["number"] > self.checkpoint.block_number:  # held back by confirmations
            status.lag_seconds = float(self.settings.confirmations)
        self.store.save_status(status)
        self.metrics.update(status)

    def _measure(self, events: int, write_seconds: float) -> None:
        """Events/s over the wall time between writes (fetching included), smoothed."""
        now = time.monotonic()
        last = getattr(self, "_last_write", None)
        self._last_write = now
        if last is None or now <= last:
            return
        rate = events / (now - last)
        self._rate = rate if self._rate == 0 else 0.7 * self._rate + 0.3 * rate

    def _adapt(self, events: int, blocks: int) -> None:
        """Aim at `target_logs` per answer: grow at most 2x per step, shrink in proportion."""
        wanted = blocks * self.settings.target_logs // max(events, 1)
        self.range = max(1, min(self.settings.max_range, 2 * blocks, wanted))

    def _shrink(self, error: RangeTooLarge, first: int) -> None:
        if error.suggested and error.suggested[0] == first and error.suggested[1] >= first:
            self.range = error.suggested[1] - first + 1
        else:
            self.range = max(1, self.range // 2)
        log.info("eth_getLogs range too large (%s); now %d blocks", error.message, self.range)

    def _progress_bar(self, target: int) -> tqdm | None:
        remaining = target - self.checkpoint.block_number
        if not self.progress or remaining < 2:
            return None
        return tqdm(total=remaining, unit="block", desc=f"chain {self.chain_id}",
                    dynamic_ncols=True, smoothing=0.1)


def _linked(headers: dict[int, dict], first: int, last: int) -> bool:
    return all(headers[n]["parentHash"] == headers[n - 1]["hash"]
               for n in range(first + 1, last + 1))

