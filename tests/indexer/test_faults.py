"""Faults: a flaky JSON-RPC endpoint, SIGKILL during a long backfill, two indexers."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from indexer.store import StoreError, acquire_writer_lock
from tests.indexer.helpers import Workload, checksums, dump, index_once, rows
from tests.indexer.proxy import FaultProxy


def _emit(stack, artifacts, blocks: int, per_block: int) -> None:
    stack.add_contract("Emitter", artifacts["test/Emitter"])
    emitter = stack.contract("Emitter")
    for i in range(blocks):
        emitter.functions.emit_many(i * per_block, per_block).transact(
            {"from": stack.accounts[0]})


def test_flaky_rpc__same_final_database(stack, artifacts, make_database):
    work = Workload(stack, seed=21)
    for holder in work.holders[:3]:
        work.mint(holder, 3)
    _emit(stack, artifacts, blocks=12, per_block=50)
    for _ in range(8):
        work.license_step()
    work.governance_round()
    clean, flaky = make_database(), make_database()
    index_once(stack.rpc_url, clean, stack.deployment)

    with FaultProxy(stack.rpc_url, seed=7) as proxy:
        index_once(proxy.url, flaky, stack.deployment, rpc_attempts=40, initial_range=50)
    assert set(proxy.faults) >= {"drop", "delay", "429", "503", "rpc-error", "garbage",
                                 "too-many"}
    assert dump(flaky) == dump(clean)


def _index_process(stack, database_url: str) -> subprocess.Popen:
    env = {**os.environ, "NODERR_DATABASE_URL": database_url, "NODERR_RPC_URL": stack.rpc_url,
           "NODERR_DEPLOYMENT": str(stack.deployment_path), "NODERR_INDEXER_INITIAL_RANGE": "2",
           "NODERR_INDEXER_MAX_RANGE": "2"}
    return subprocess.Popen([sys.executable, "-m", "noderr_cli", "index", "--once",
                             "--no-progress"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def test_sigkill_during_backfill__restart_gives_same_database(stack, artifacts, make_database):
    work = Workload(stack, seed=22)
    for holder in work.holders[:4]:
        work.mint(holder, 2)
    _emit(stack, artifacts, blocks=150, per_block=100)
    for _ in range(6):
        work.license_step()
    head = stack.w3.eth.block_number
    crashed, clean = make_database(), make_database()
    rng, killed_midway = random.Random(5), 0
    for _ in range(4):
        process = _index_process(stack, crashed)
        deadline = time.monotonic() + 60
        start = rows(crashed, "SELECT coalesce(max(block_number), -1) FROM indexer_checkpoints")
        while process.poll() is None and time.monotonic() < deadline:
            reached = rows(crashed, "SELECT coalesce(max(block_number), -1)"
                                    " FROM indexer_checkpoints")[0][0]
            if reached > start[0][0] + rng.randint(2, 20):
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        reached = rows(crashed, "SELECT block_number FROM indexer_checkpoints")
        killed_midway += bool(reached) and reached[0][0] < head
    assert killed_midway >= 3
    finish = _index_process(stack, crashed)
    assert finish.wait(timeout=120) == 0, finish.stderr.read().decode()
    index_once(stack.rpc_url, clean, stack.deployment)
    assert rows(crashed, "SELECT count(*) FROM chain_events")[0][0] > 15_000
    assert checksums(crashed) == checksums(clean)


def test_second_writer__refused_while_the_first_holds_the_lock(database_url):
    with psycopg.connect(database_url) as first, psycopg.connect(database_url) as second:
        acquire_writer_lock(first, 31337)
        with pytest.raises(StoreError, match="another indexer"):
            acquire_writer_lock(second, 31337)
        acquire_writer_lock(second, 1)  # another chain is another lock
