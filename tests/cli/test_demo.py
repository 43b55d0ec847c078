"""`noderr demo`, the command `make demo` runs once setup is done, walked as the README tells a
newcomer: it starts, prints where everything is, the network runs (every node active, a feed's
round advancing on-chain, the ML server answering), and Ctrl-C stops every process it started.

Fresh data folder, chain and bus on free ports; the API, dashboard and ML server on their
documented ports (8000, 8501, 50051), as the README prints them. An earlier demo's ML artifact
is placed in NODERR_ML_DIR so the demo does not spend a minute training."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import psutil
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from web3 import Web3

from noderr.deployment import Deployment
from noderr.ports import free_port
from noderr.settings import REPO_ROOT
from tests.ml.artifacts import save_small_artifact

START_TIMEOUT_S = 300
UP = "Ctrl-C stops everything."


@dataclass
class Demo:
    process: subprocess.Popen
    output: list[str]
    rpc_url: str
    data_dir: Path
    children: list[psutil.Process]


def read_until_up(process: subprocess.Popen) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.strip() == UP:
            return lines
    raise AssertionError("the demo did not come up:\n" + "\n".join(lines[-30:]))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data_dir = tmp_path_factory.mktemp("demo")
    save_small_artifact(data_dir / "ml", "earlier-demo")
    rpc_url = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "NODERR_DATA_DIR": str(data_dir), "NODERR_RPC_URL": rpc_url,
           "NODERR_BUS_URL": f"nats://127.0.0.1:{free_port()}",
           "NODERR_ML_DIR": str(data_dir / "ml"),
           "NODERR_DEPLOYMENT": str(data_dir / "31337.json")}
    process = subprocess.Popen([sys.executable, "-m", "noderr_cli", "demo"], cwd=REPO_ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    children: list[psutil.Process] = []
    try:
        output = read_until_up(process)
        children = psutil.Process(process.pid).children(recursive=True)
        yield Demo(process, output, rpc_url, data_dir, children)
    finally:
        if process.poll() is None:  # a test failed before Ctrl-C: stop it as a person would
            os.killpg(process.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=60)
        for child in [*children, process]:
            with contextlib.suppress(psutil.Error, ProcessLookupError):
                child.kill()
        _stop_embedded_postgres(data_dir / "postgres")


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _stop_embedded_postgres(pgdata: Path) -> None:
    """The demo leaves its embedded PostgreSQL running by design; this test's copy goes
    (SIGINT: PostgreSQL's fast shutdown)."""
    pid_file = pgdata / "postmaster.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGINT)


def test_demo__prints_where_everything_is(demo: Demo) -> None:
    printed = "\n".join(demo.output)
    for line_start in ("Noderr demo is up:", "Chain      ", "NodeFeed.SP500", "NodeGuard",
                       "Dashboard  http://127.0.0.1:8501", "API        http://127.0.0.1:8000",
                       "Bus        nats://", "ML         127.0.0.1:50051", "Network    ",
                       "Logs       "):
        assert line_start in printed, f"{line_start!r} missing from:\n{printed}"


def test_demo__every_node_active_and_the_services_answer(demo: Demo) -> None:
    nodes = httpx.get("http://127.0.0.1:8000/network/nodes", timeout=10).json()
    by_type = sorted(node["node_type"] for node in nodes if node["status"] == "active")
    assert by_type == [1, 1, 2, 2, 3, 3, 3, 3]
    assert httpx.get("http://127.0.0.1:8501/_stcore/health", timeout=10).status_code == 200
    with grpc.insecure_channel("127.0.0.1:50051") as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_demo__validators_land_rounds_on_chain(demo: Demo) -> None:
    deployment = Deployment.load(demo.data_dir / "31337.json")
    record = deployment.contracts["NodeFeed.SP500"]
    feed = Web3(Web3.HTTPProvider(demo.rpc_url)).eth.contract(address=record.address,
                                                              abi=record.abi)
    first = feed.functions.latest_round().call()
    deadline = time.monotonic() + 60
    while feed.functions.latest_round().call() <= first:
        assert time.monotonic() < deadline, "no new SP500 round in 60 s"
        time.sleep(1)
    round_id, answer, *_ = feed.functions.latestRoundData().call()
    assert round_id > first and answer > 0


def test_demo__ctrl_c_stops_every_process_it_started(demo: Demo) -> None:
    assert len(demo.children) >= 12  # anvil, NATS, indexer, API, dashboard, ML, 8 nodes
    os.killpg(demo.process.pid, signal.SIGINT)
    assert demo.process.wait(timeout=60) == 0
    _, alive = psutil.wait_procs(demo.children, timeout=15)
    assert [(p.pid, _cmdline(p)) for p in alive] == []
