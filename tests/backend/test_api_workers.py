"""`noderr api --workers N`: N processes on one port, each authorizing from the mirror with its
own caller cache, each told of a revocation by the database."""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from backend.caller_cache import count_listeners
from noderr.ports import free_port
from tests.backend.helpers import sample
from tests.backend.siwe_helpers import KEYS, sign, siwe_text

ORACLE = 1
OPERATOR = KEYS[1].address


@dataclass
class ApiProcess:
    url: str
    process: subprocess.Popen


@pytest.fixture
def start_api(tmp_path: Path, deployment, rpc_url,
              database_url) -> Iterator[Callable[[int], ApiProcess]]:
    """`noderr api --workers N` as a process, once each worker listens for the mirror."""
    deployment.save(tmp_path / "deployment.json")
    started: list[subprocess.Popen] = []

    def start(workers: int) -> ApiProcess:
        port = free_port()
        env = {**os.environ, "NODERR_DATABASE_URL": database_url, "NODERR_RPC_URL": rpc_url,
               "NODERR_DEPLOYMENT": str(tmp_path / "deployment.json"),
               "NODERR_SIWE_DOMAINS": f"http://127.0.0.1:{port}",
               "NODERR_HEAD_CACHE_SECONDS": "0",
               "NODERR_SESSION_KEY_FILE": str(tmp_path / "session-key")}
        process = subprocess.Popen(
            [sys.executable, "-m", "noderr_cli", "api", "--port", str(port),
             "--workers", str(workers)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started.append(process)
        wait_for_listeners(database_url, workers, process)
        return ApiProcess(f"http://127.0.0.1:{port}", process)

    try:
        yield start
    finally:
        for process in started:
            process.terminate()
            process.wait(timeout=20)


@pytest.fixture
def api_workers(start_api) -> str:
    return start_api(2).url


def wait_for_listeners(database_url: str, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while count_listeners(database_url) < count:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"workers did not start: {process.communicate()[0][-2000:]}")
        time.sleep(0.2)


def sign_in(base: str) -> dict[str, str]:
    with httpx.Client(base_url=base) as client:
        nonce = client.get("/auth/nonce").json()["nonce"]
        text = siwe_text(OPERATOR, nonce, domain=base.removeprefix("http://"), uri=base)
        answer = client.post("/auth/verify", json={"message": text, "signature": sign(text, 1)})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}


def gate_statuses(base: str, headers: dict[str, str], requests: int = 20) -> set[int]:
    """Statuses over fresh connections, so that the kernel spreads them over the workers."""
    return {httpx.get(f"{base}/nodes/oracle/access", headers=headers).status_code
            for _ in range(requests)}


def test_api__two_workers__every_worker_denies_once_revocation_indexed(api_workers, ops,
                                                                      database_url):
    token_id = ops.mint(OPERATOR, ORACLE)
    ops.index()
    headers = sign_in(api_workers)
    assert gate_statuses(api_workers, headers) == {200}
    ops.revoke(token_id)
    ops.index()
    assert gate_statuses(api_workers, headers) == {403}
    assert count_listeners(database_url) == 2


def test_metrics__two_workers__one_scrape_counts_every_workers_requests(api_workers):
    for _ in range(20):
        assert httpx.get(f"{api_workers}/healthz").status_code == 200
    for _ in range(4):  # whichever worker answers the scrape
        scraped = httpx.get(f"{api_workers}/metrics").text
        assert sample(scraped, "noderr_api_requests_total", route="/healthz", method="GET",
                      status="200", gated="false") == 20


@pytest.mark.parametrize("workers", [1, 2])
def test_stop__license_watch_in_flight__answered_at_once_no_500_no_traceback(
        start_api, ops, workers: int):
    ops.mint(OPERATOR, ORACLE)
    indexed = ops.index()
    api = start_api(workers)
    headers = sign_in(api.url)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        watch = pool.submit(httpx.get, f"{api.url}/nodes/me/watch", headers=headers,
                            params={"after_block": indexed, "timeout_s": 30}, timeout=40)
        wait_for_watchers(api.url, workers)
        api.process.terminate()
        answer = watch.result()

    assert answer.status_code == 200, answer.text
    assert answer.json()["indexed_block"] == indexed
    assert [held["node_type"] for held in answer.json()["licenses"]] == [ORACLE]
    api.process.wait(timeout=20)
    said = api.process.stdout.read()
    assert "Traceback" not in said and "timeout graceful shutdown exceeded" not in said, said
    assert said.count("Application shutdown complete") == workers


def wait_for_watchers(base: str, workers: int) -> None:
    """Until a license watch is waiting (a scrape sums every worker's)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if sample(httpx.get(f"{base}/metrics").text, "noderr_api_license_watches"):
            return
        time.sleep(0.1)
    pytest.fail(f"no license watch in flight in {workers} worker(s) after 30 s")


def test_api__zero_workers__clear_error(deployment):
    from typer.testing import CliRunner

    from noderr_cli.main import app

    result = CliRunner().invoke(app, ["api", "--workers", "0"])
    assert result.exit_code == 2
    assert "--workers" in result.output
