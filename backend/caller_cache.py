"""A per-process cache of signed-in callers that never outlives what it was read from.

Resolving a caller (session + licenses + roles + checkpoint) is one database round trip, the
largest cost of a license-gated request. The answer only changes when a session is revoked or
the indexer rewrites licenses or roles, and each of those announces itself: triggers
(backend/schema.py, NOTIFY_UPGRADE) send a NOTIFY on AUTHZ_CHANNEL from the very transaction
that makes the change, delivered at its commit. So a cached caller is reused only while this
process has heard of no such change since it was read:

- every announcement of a change bumps `generation`, and an entry read under an older
  generation is a miss; checkpoint moves update `indexed_block`, which a hit reports;
- pending notifications are drained before every lookup, not only when the event loop gets to
  the listener's socket;
- the entry expires with its session;
- fail closed: while the listening connection is down (or before it is up) `generation` is
  None and every lookup misses, so each request reads the database as if there were no cache;
  reconnecting starts a new generation.

The same notifications wake the license watches (GET /nodes/me/watch, backend/network.py):
`checkpoint_moved` returns when the next checkpoint move is heard (or the listener is lost or
back), so a waiting request answers within milliseconds of the indexer's commit. At most
`max_waiters` watches wait at once in a process (`waiting`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Iterator

import psycopg
from prometheus_client import Gauge

from backend import mirror
from backend.caller import Caller
from backend.schema import AUTHZ_CHANNEL

log = logging.getLogger("noderr.backend.caller_cache")
WATCHES = Gauge("noderr_api_license_watches", "License watches (GET /nodes/me/watch long "
                "polls) waiting now; a process holds at most max_waiters, 503 past them.",
                multiprocess_mode="livesum")
RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)
# libpq TCP keepalives: a listener whose server vanished without closing the socket is
# noticed (and the cache switched off) within about 10 s.
LISTENER_NAME = "noderr-caller-cache"  # application_name, as pg_stat_activity shows it
LISTENER_PARAMS = {"application_name": LISTENER_NAME, "keepalives": 1,
                   "keepalives_idle": 4, "keepalives_interval": 2, "keepalives_count": 3}


def count_listeners(database_url: str) -> int:
    """How many API processes' caller caches are listening on this database now."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                           (LISTENER_NAME,)).fetchone()
    return int(row[0]) if row else 0


class TooManyWaiters(Exception):
    """Every waiting place of this process is taken."""


@dataclasses.dataclass(frozen=True)
class _Entry:
    generation: int
    caller: Caller
    expires_at: float


class CallerCache:
    """Callers by session-token hash, valid for one generation of the mirror and sessions."""

    def __init__(self, database_url: str, chain_id: int, max_entries: int = 10_000,
                 max_waiters: int = 1000) -> None:
        self.database_url, self.chain_id, self.max_entries = database_url, chain_id, max_entries
        self.max_waiters, self.waiters = max_waiters, 0
        self._moved = asyncio.Event()
        self.generation: int | None = None
        self.indexed_block: int | None = None
        self.hits = self.misses = 0
        self._entries: dict[bytes, _Entry] = {}
        self._conn: psycopg.AsyncConnection | None = None
        self._next_generation = 0
        self._task: asyncio.Task | None = None
        self._lost = asyncio.Event()

    @property
    def listening(self) -> bool:
        return self.generation is not None

    def get(self, hashed_token: bytes) -> Caller | None:
        """The cached caller for this session, or None (a miss: read the database)."""
        self.drain()
        entry = self._entries.get(hashed_token)
        if (entry is None or entry.generation != self.generation
                or entry.expires_at <= time.time()):
            self.misses += 1
            return None
        self.hits += 1
        if entry.caller.indexed_block != self.indexed_block:  # the checkpoint moved on
            entry = dataclasses.replace(
                entry, caller=dataclasses.replace(entry.caller, indexed_block=self.indexed_block))
            self._entries[hashed_token] = entry
        return entry.caller

    def put(self, hashed_token: bytes, caller: Caller, expires_at: float,
            generation: int | None) -> None:
        """Remember `caller`, read from the database while `generation` was current."""
        if generation is None or generation != self.generation:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[hashed_token] = _Entry(generation, caller, expires_at)

    def forget(self, hashed_token: bytes | None = None) -> None:
        """Drop one session (or everything) now, before the notification comes back."""
        if hashed_token is None:
            self._entries.clear()
        else:
            self._entries.pop(hashed_token, None)

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Hold one of the `max_waiters` places of a request waiting on the checkpoint
        (TooManyWaiters when none is free)."""
        if self.waiters >= self.max_waiters:
            raise TooManyWaiters(f"{self.max_waiters} requests already wait here")
        self.waiters += 1
        WATCHES.inc()
        try:
            yield
        finally:
            self.waiters -= 1
            WATCHES.dec()

    async def checkpoint_moved(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the next checkpoint move this process hears of, or
        for the listener to be lost or back: True when one came. Call `drain` and read
        `indexed_block` first: what was already received is not waited for."""
        moved = self._moved
        try:
            await asyncio.wait_for(moved.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def _announce_move(self) -> None:
        self._moved.set()
        self._moved = asyncio.Event()

    def drain(self) -> None:
        """Apply every notification already received; a broken connection turns caching off."""
        conn = self._conn
        if conn is None or self.generation is None:
            return
        try:
            conn.pgconn.consume_input()
            while (notify := conn.pgconn.notifies()) is not None:
                self._apply(notify.extra.decode())
        except psycopg.Error as error:
            self._lose(f"listener connection failed: {error}")

    def _apply(self, payload: str) -> None:
        kind, _, rest = payload.partition(":")
        if kind == "checkpoint":
            chain, _, block = rest.partition(":")
            if chain == str(self.chain_id):
                self.indexed_block = int(block) if block else None
                self._announce_move()
            return
        self._new_generation()

    def _new_generation(self) -> None:
        self._next_generation += 1
        self.generation = self._next_generation
        self._entries.clear()

    def _lose(self, reason: str) -> None:
        if self.generation is not None:
            log.warning("caller cache off, every request reads the database: %s", reason)
        self.generation = None
        self._entries.clear()
        self._lost.set()
        self._announce_move()

    async def start(self) -> None:
        """Listen in the background (returns at once; the cache turns on once listening)."""
        self._task = asyncio.create_task(self._listen_forever(), name="caller-cache-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._disconnect()

    async def _listen_forever(self) -> None:
        failures = 0
        while True:
            try:
                await self._connect()
                failures = 0
                await self._lost.wait()
            except (psycopg.Error, OSError) as error:
                self._lose(f"cannot listen on {AUTHZ_CHANNEL}: {error}")
            await self._disconnect()
            await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)])
            failures += 1

    async def _connect(self) -> None:
        """LISTEN first, then read the checkpoint: a change in between is a notification."""
        self._lost.clear()
        conn = await psycopg.AsyncConnection.connect(self.database_url, autocommit=True,
                                                     **LISTENER_PARAMS)
        self._conn = conn
        await conn.execute(f"LISTEN {AUTHZ_CHANNEL}")
        self.indexed_block = await mirror.indexed_block(conn, self.chain_id)
        self._new_generation()
        self._announce_move()
        asyncio.get_running_loop().add_reader(conn.fileno(), self.drain)
        log.info("caller cache on (listening on %s)", AUTHZ_CHANNEL)

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(psycopg.Error, ValueError, OSError):  # already closed: no fd
            asyncio.get_running_loop().remove_reader(conn.fileno())
        await conn.close()
