"""Database work that concurrent requests of one process hand in and that is done together:
the first caller starts a flush, callers arriving meanwhile queue for the next one, and each
flush is one round trip for the whole queue. Batches form by themselves under load (the
queue fills while a flush waits on the database) and are a single item when idle, so nothing
waits on a timer.

The audit log's group commit (backend/vault/audit.py) and the vault reads' group fetch
(backend/vault/store.py:GroupFetch) are the two batchers."""

from __future__ import annotations

import asyncio
import weakref
from abc import ABC, abstractmethod
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Batcher(ABC, Generic[Item, Result]):
    """Items waiting to be handled together, and the one task flushing them."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self.flusher: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """`item`'s result once its batch is handled; raises `failure` of the batch's error."""
        waiter: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self.queue.append((item, waiter))
        if self.flusher is None or self.flusher.done():
            self.flusher = asyncio.create_task(self._flush_all())
        return await waiter

    @abstractmethod
    async def handle(self, items: list[Item]) -> list[Result]:
        """The result of each item, in order: one round trip for all of them."""

    @abstractmethod
    def failure(self, error: BaseException) -> Exception:
        """What each caller of a failed batch raises (a new exception for each)."""

    @abstractmethod
    def expected(self, error: BaseException) -> bool:
        """Whether `error` is an answer (the database's) rather than a bug: a bug is raised
        from the flush as well as to every caller."""

    async def _flush_all(self) -> None:
        while self.queue:
            batch, self.queue = self.queue, []
            try:
                results = await self.handle([item for item, _ in batch])
            except BaseException as error:
                for _, waiter in batch:
                    if not waiter.done():
                        waiter.set_exception(self.failure(error))
                if not self.expected(error):
                    raise
                continue
            for result, (_, waiter) in zip(results, batch, strict=True):
                if not waiter.done():
                    waiter.set_result(result)


B = TypeVar("B", bound=Batcher)
_batchers: weakref.WeakKeyDictionary[Any, dict[tuple[type, asyncio.AbstractEventLoop],
                                                Batcher]] = weakref.WeakKeyDictionary()


def batcher(kind: type[B], db: Any) -> B:
    """The `kind` batcher of `db` in the running event loop."""
    per_db = _batchers.setdefault(db, {})
    key = (kind, asyncio.get_running_loop())
    if key not in per_db:
        for stale in [other for other in per_db if other[0] is kind]:
            del per_db[stale]
        per_db[key] = kind(db)
    return per_db[key]
