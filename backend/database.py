"""A small pool of async psycopg connections for the API (psycopg_pool is not a dependency)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from psycopg.rows import dict_row


class Database:
    """Up to `size` connections, opened lazily and reused."""

    def __init__(self, url: str, size: int = 10) -> None:
        self.url, self.size = url, size
        self._idle: asyncio.LifoQueue[psycopg.AsyncConnection] = asyncio.LifoQueue()
        self._slots = asyncio.Semaphore(size)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[dict[str, Any]]]:
        """A connection in autocommit mode: each statement is its own transaction."""
        async with self._slots:
            conn = await self._checkout()
            try:
                yield conn
            finally:
                await self._give_back(conn)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[psycopg.AsyncConnection[dict[str, Any]]]:
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def _checkout(self) -> psycopg.AsyncConnection:
        while not self._idle.empty():
            conn = self._idle.get_nowait()
            if not conn.closed:
                return conn
        return await psycopg.AsyncConnection.connect(self.url, row_factory=dict_row,
                                                     autocommit=True)

    async def _give_back(self, conn: psycopg.AsyncConnection) -> None:
        if conn.closed or conn.broken:
            await conn.close()
        else:
            self._idle.put_nowait(conn)

    async def fetch(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        async with self.connection() as conn:
            return await (await conn.execute(sql, params)).fetchall()

    async def fetch_one(self, sql: str, params: Any = None) -> dict[str, Any] | None:
        async with self.connection() as conn:
            return await (await conn.execute(sql, params)).fetchone()

    async def close(self) -> None:
        while not self._idle.empty():
            await self._idle.get_nowait().close()
