"""The API keeps the consensus messages' retention by itself: each API process prunes once at
start, then every NODERR_CONSENSUS_PRUNE_EVERY_S seconds (0: never; the deployment runs
`noderr db prune` from cron instead), backend/message_retention.py saying what goes and why.

- One at a time: a prune runs under a PostgreSQL advisory try-lock, so of the API workers
  whose periods come round together one prunes and the others skip to their next period.
- Never in a request's way: the prune is synchronous psycopg on its own connection, run in a
  worker thread, so the event loop serves on (its batches are short transactions).
- Fails soft: an error (the database away, say) is logged and the prune tried again next
  period; the API keeps serving.
- Stops with the process: the prune in flight ends after its current batch (each batch is its
  own transaction, so what was deleted stays deleted, and the next prune goes on from there).
"""

from __future__ import annotations

import asyncio
import logging
import threading

import psycopg

from backend import message_retention

log = logging.getLogger("noderr.backend.retention")
CONNECT_TIMEOUT_S = 10


class Stopping(Exception):
    """The process stops: the prune in flight ends after its current batch."""


class PeriodicPrune:
    def __init__(self, database_url: str, every_s: float, days: int) -> None:
        self.database_url, self.every_s, self.days = database_url, every_s, days
        self.task: asyncio.Task[None] | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        """Prune now and every `every_s` seconds, in the background (not at all when 0)."""
        if self.every_s > 0:
            self.task = asyncio.create_task(self._forever(), name="consensus-prune")

    async def stop(self) -> None:
        self._stopping.set()
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def _forever(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.prune_once)
            except psycopg.Error as error:
                log.error("consensus message prune failed (%s); trying again in %s s",
                          str(error).strip() or type(error).__name__, self.every_s)
            except Exception:
                log.exception("consensus message prune failed; trying again in %s s",
                              self.every_s)
            await asyncio.sleep(self.every_s)

    def prune_once(self) -> int | None:
        """One prune on its own connection; how many messages it deleted, None when another
        process was pruning."""
        with psycopg.connect(self.database_url, autocommit=True,
                             connect_timeout=CONNECT_TIMEOUT_S) as conn:
            pruned = message_retention.prune_exclusively(conn, self.days, self._check_stopping)
        if pruned is None:
            log.info("consensus message prune skipped: another process is pruning")
            return None
        before, deleted = pruned
        log.info("pruned %d consensus messages recorded before %s (older than %d days)",
                 deleted, before.isoformat(), self.days)
        return deleted

    def _check_stopping(self, deleted: int) -> None:
        if self._stopping.is_set():
            raise Stopping
