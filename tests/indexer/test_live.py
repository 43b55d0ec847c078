"""Live mode: a mined block shows up in `licenses` within the poll interval plus a margin."""

from __future__ import annotations

import threading
import time

import psycopg

from indexer.follow import Indexer
from indexer.health import read_health
from indexer.settings import IndexerSettings
from tests.indexer.helpers import Workload, rows

POLL = 0.2
MARGIN = 3.0  # generous: two other engineers share these two cores


def _visible_after(database_url: str, query: str, since: float) -> float | None:
    while time.monotonic() - since < POLL + MARGIN:
        if rows(database_url, query):
            return time.monotonic() - since
        time.sleep(0.02)
    return None


def test_live__mint_visible_within_poll_interval(stack, database_url):
    work = Workload(stack, seed=31)
    stop = threading.Event()
    with psycopg.connect(database_url) as conn:
        indexer = Indexer(stack.rpc_url, conn, stack.deployment,
                          IndexerSettings(poll_interval=POLL))
        thread = threading.Thread(target=indexer.run, kwargs={"stop": stop})
        thread.start()
        try:
            delays = []
            for i, holder in enumerate(work.holders[:3]):
                sent = time.monotonic()
                assert work.mint(holder, 1)
                delays.append(_visible_after(
                    database_url, f"SELECT 1 FROM licenses WHERE token_id = {i + 1}", sent))
            assert None not in delays
            with psycopg.connect(database_url) as reader:
                health = read_health(reader, stack.deployment.chain_id)
            assert health.indexed_block == stack.w3.eth.block_number and health.trusted()
        finally:
            stop.set()
            thread.join(timeout=10)
            indexer.close()
    assert not thread.is_alive()
