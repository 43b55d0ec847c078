"""Rotation and rewrap online: clients read and write through a live server while master
keys rotate, data keys are rewrapped and old versions retire; an interrupted rewrap rerun."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from backend.api.app import create_app
from backend.database import Database
from backend.vault import rotation
from backend.vault.keys import LocalKeyring
from backend.vault.service import Vault
from noderr.ports import free_port
from tests.vault.helpers import GUARDIAN, ORACLE, VALIDATOR, audit_rows, noderr

WORKERS = [(index, node_type) for index in (1, 2) for node_type in (ORACLE, GUARDIAN, VALIDATOR)]


@pytest.fixture
def live_url(chain, database_url, settings, vault_settings) -> Iterator[str]:
    """The real app under uvicorn on a free port, in a thread."""
    app = create_app(settings, chain[1], database_url, chain[0])
    app.state.vault = Vault(vault_settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(),
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=10)


class Worker(threading.Thread):
    """Writes and reads one license's secrets until stopped; remembers every version."""

    def __init__(self, url: str, headers: dict[str, str], token: int, seed: int) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=url, headers=headers, timeout=30)
        self.token, self.rng = token, random.Random(seed)
        self.written: dict[str, list[dict[str, Any]]] = {}
        self.failures: list[str] = []
        self.reads = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            name = f"exchange-{self.rng.randint(0, 2)}"
            if name not in self.written or self.rng.random() < 0.3:
                self.write(name)
            else:
                self.read(name)

    def write(self, name: str) -> None:
        data = {"api_key": f"key-{self.token}-{name}-{self.rng.random()}"}
        response = self.client.put(f"/vault/licenses/{self.token}/secrets/{name}",
                                   json={"data": data})
        if response.status_code != 200:
            self.failures.append(f"write {name}: {response.status_code} {response.text}")
            return
        versions = self.written.setdefault(name, [])
        versions.append(data)
        if response.json()["version"] != len(versions):
            self.failures.append(f"write {name}: version {response.json()['version']}")

    def read(self, name: str) -> None:
        response = self.client.get(f"/vault/licenses/{self.token}/secrets/{name}")
        self.reads += 1
        if response.status_code != 200 or response.json()["data"] != self.written[name][-1]:
            self.failures.append(f"read {name}: {response.status_code} {response.text}")


def run_async(coroutine_factory, database_url: str) -> Any:
    async def main() -> Any:
        async with Database(database_url, size=2) as db:
            return await coroutine_factory(db)

    return asyncio.run(main())


def rotate_and_rewrap(database_url: str, key_file, minimum: int) -> int:
    """Rotate, rewrap a key per transaction (slowly), retire older versions."""
    run_async(lambda db: rotation.rotate(db, key_file, "test", "rotate"), database_url)
    keys = LocalKeyring(path=key_file)
    result = run_async(lambda db: rotation.rewrap(db, keys, 1, "test", "rewrap",
                                                  lambda _: time.sleep(0.1)), database_url)
    run_async(lambda db: rotation.set_min_version(db, key_file, minimum, True, "test", "min"),
              database_url)
    return result.rewrapped


def wait_for_reads(workers: list[Worker], count: int, timeout: float = 60) -> None:
    """Until the clients have read `count` times: the rotation starts under real traffic,
    however slow the machine."""
    deadline = time.monotonic() + timeout
    while sum(w.reads for w in workers) < count:
        assert time.monotonic() < deadline, "the clients never got going"
        time.sleep(0.05)


def test_rotate_rewrap_retire__while_clients_read_and_write__nothing_fails_or_changes(
        api, live_url, database_url, key_file, db):
    workers = []
    for seed, (index, node_type) in enumerate(WORKERS):
        token = api.license(index, node_type)
        workers.append(Worker(live_url, api.login(index), token, seed))
        workers[-1].write("exchange-0")  # every token has a data key before the rotation
    for worker in workers:
        worker.start()
    wait_for_reads(workers, 10)
    reads_before = sum(w.reads for w in workers)
    assert rotate_and_rewrap(database_url, key_file, 2) == len(WORKERS)
    assert rotate_and_rewrap(database_url, key_file, 3) == len(WORKERS)
    reads_during = sum(w.reads for w in workers) - reads_before
    time.sleep(0.5)
    for worker in workers:
        worker.stop.set()
        worker.join(timeout=30)

    assert [f for w in workers for f in w.failures] == []
    assert reads_during > 0, "no client read while the keys rotated: the test proved nothing"
    assert db.execute("SELECT array_agg(DISTINCT kek_version) FROM vault_data_keys"
                      ).fetchone()[0] == [3]
    for worker in workers:  # every version of every secret, byte for byte, after retirement
        for name, versions in worker.written.items():
            for number, data in enumerate(versions, start=1):
                response = worker.client.get(
                    f"/vault/licenses/{worker.token}/secrets/{name}", params={"version": number})
                assert response.status_code == 200 and response.json()["data"] == data
    assert noderr_verify(database_url)


def noderr_verify(database_url: str) -> bool:
    from backend.vault import audit

    async def check(db: Database) -> bool:
        async with db.connection() as conn:
            head = await audit.head(conn)
            entries = [e async for e in audit.stream(conn)]
        return audit.verify(entries, head=head).intact

    return run_async(check, database_url)


class CrashingKeys:
    """The real keyring, except that the process "dies" at the `crash_at`-th wrap."""

    def __init__(self, keys: LocalKeyring, crash_at: int) -> None:
        self.keys, self.crash_at, self.wraps = keys, crash_at, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.keys, name)

    def wrap(self, data_key: bytes, aad: bytes) -> tuple[int, bytes]:
        self.wraps += 1
        if self.wraps == self.crash_at:
            raise KeyboardInterrupt
        return self.keys.wrap(data_key, aad)


def test_rewrap__interrupted_then_rerun__nothing_lost(api, database_url, key_file, db,
                                                      cli_env):
    secrets = {}
    for index, node_type in WORKERS:
        token = api.license(index, node_type)
        secrets[(index, token)] = {"api_key": f"key-{token}"}
        assert api.put(index, token, "binance", secrets[(index, token)]).status_code == 200
    run_async(lambda db: rotation.rotate(db, key_file, "test", "rotate"), database_url)
    crashing = CrashingKeys(LocalKeyring(path=key_file), crash_at=4)
    with pytest.raises(KeyboardInterrupt):
        run_async(lambda db: rotation.rewrap(db, crashing, 2, "test", "rewrap"), database_url)
    versions = [row[0] for row in db.execute(
        "SELECT kek_version FROM vault_data_keys ORDER BY id").fetchall()]
    assert versions == [2, 2, 1, 1, 1, 1]  # the first batch committed, the second did not
    for (index, token), data in secrets.items():  # readable mid-way, with both versions
        assert api.get(index, token, "binance").json()["data"] == data
    code, output = noderr("vault", "rewrap", "--batch", "3")
    assert code == 0 and "4 data keys rewrapped to v2" in output
    assert noderr("vault", "set-min-version", "2", "--purge")[0] == 0
    for (index, token), data in secrets.items():
        assert api.get(index, token, "binance").json()["data"] == data
    assert [e["detail"] for e in audit_rows(db, action="rewrap")] == [
        "2 data keys to v2", "3 data keys to v2", "1 data keys to v2"]
    assert noderr("vault", "verify-audit")[0] == 0
