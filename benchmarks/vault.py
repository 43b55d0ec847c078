"""Vault benchmark: requests/s and p50/p99 of (a) the unauthenticated GET /healthz, (b) a
vault read and (c) a vault write through the API (SIWE session, mirror-backed authorization,
envelope decryption, one audit entry each: reads fetched in groups and audited through the
group commit), all in one run
against `noderr api`; (d) an owner's read latency alone and while an anonymous flood of
FLOOD requests (no session: refused, counted, rate-limited, never audited) runs against the
same API; and the cryptographic cost per operation alone (no HTTP, no database).

Reuses benchmarks/api.py's setup (anvil, embedded PostgreSQL, deployment, a minted license,
one indexer pass) and its load generator. With --write, appends a "Vault" section to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvloop

from backend.vault.audit import entry_hash
from backend.vault.crypto import TokenBinding, encode_secret, new_key, open_sealed, seal
from backend.vault.keys import LocalKeyring, write_keyring
from backend.vault.rotation import next_ring
from noderr.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
sys.path.insert(0, str(REPO_ROOT))
from api import (
    CLIENTS,
    CONTENT_LENGTH,
    Connection,
    encode,
    gated_request,
    load,
    measure,
    percentile,
    prepare,
    send_all,
    serve_api,
    stop_postgres,
)
from report import write_section

SECRET = {"exchange": "binance", "api_key": "A" * 64, "api_secret": "S" * 64,
          "passphrase": "P" * 24}
Result = tuple[float, float, float]
FLOOD = 10_000
OWNER_CLIENTS = 4
"""Connections of the owner's reads in (d): one operator's tools, not a load test."""
OWNER_ROUND = 40
"""Owner reads per round in (d′): rounds go on until the flood ends, so every measured read
overlaps it."""


def per_call_us(function: Callable[[], object], count: int = 20000) -> float:
    began = time.perf_counter()
    for _ in range(count):
        function()
    return (time.perf_counter() - began) / count * 1e6


def crypto_costs(key_file: Path) -> dict[str, float]:
    """Microseconds per call of each cryptographic step a read or a write performs."""
    keys = LocalKeyring(path=key_file)
    binding = TokenBinding(31337, "0x" + "11" * 20, 1, "0x" + "22" * 20)
    data_key, plaintext = new_key(), encode_secret(SECRET)
    version, wrapped = keys.wrap(data_key, binding.data_key_aad())
    aad = binding.secret_aad("binance", 1)
    nonce, sealed = seal(data_key, plaintext, aad)
    entry = {"seq": 1, "at": datetime.now(UTC), "actor": "0x" + "22" * 20,
             "token_id": 1, "secret_name": "binance", "action": "read", "outcome": "ok",
             "request_id": "r" * 32, "detail": "version 1", "prev_hash": bytes(32)}
    costs = {
        "unwrap data key (AES-256-GCM, keyring stat)":
            per_call_us(lambda: keys.unwrap(version, wrapped, binding.data_key_aad())),
        "seal secret (AES-256-GCM, fresh nonce)": per_call_us(lambda: seal(data_key, plaintext,
                                                                          aad)),
        "open secret (AES-256-GCM)": per_call_us(lambda: open_sealed(data_key, nonce, sealed,
                                                                     aad)),
        "audit entry hash (SHA-256, verification side)": per_call_us(lambda: entry_hash(entry)),
    }
    costs["read = unwrap + open + audit hash"] = (
        costs["unwrap data key (AES-256-GCM, keyring stat)"] + costs["open secret (AES-256-GCM)"]
        + costs["audit entry hash (SHA-256, verification side)"])
    costs["write = unwrap + seal + audit hash"] = (
        costs["unwrap data key (AES-256-GCM, keyring stat)"]
        + costs["seal secret (AES-256-GCM, fresh nonce)"]
        + costs["audit entry hash (SHA-256, verification side)"])
    return costs


def run(count: int) -> tuple[dict[str, Result], dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="noderr-bench-vault-") as folder:
        tmp = Path(folder)
        os.chmod(tmp, 0o755)  # noqa: S103 - the embedded server may run as another user
        key_file = tmp / "vault" / "master-keys.json"
        write_keyring(key_file, next_ring(None))
        os.environ["NODERR_VAULT_KEY_FILE"] = str(key_file)
        anvil, env = prepare(tmp)
        try:
            with serve_api(env, caller_cache=True, workers=1) as base:
                figures = api_figures(base, count)
                figures.update(flood_figures(base, count))
                return figures, crypto_costs(key_file)
        finally:
            anvil.kill()
            anvil.wait()
            stop_postgres(tmp / "pg")


def api_figures(base: str, count: int) -> dict[str, Result]:
    with httpx.Client(base_url=base) as client:
        auth = gated_request(client)["headers"]
        secret_url = f"{base}/vault/licenses/1/secrets/binance"
        client.put(secret_url, json={"data": SECRET}, headers=auth).raise_for_status()
    total = count + count // 10
    return {
        "a unauthenticated GET /healthz": measure(f"{base}/healthz", [{"method": "GET"}] * total,
                                                  count),
        "b vault read GET /vault/licenses/1/secrets/binance": measure(
            secret_url, [{"method": "GET", "headers": auth}] * total, count),
        "c vault write PUT /vault/licenses/1/secrets/binance": measure(
            secret_url, [{"method": "PUT", "headers": auth, "json": {"data": SECRET}}] * total,
            count),
    }


class AnyStatus(Connection):
    """A keep-alive connection that takes any answer (the flood is refused by design)."""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        length = int(CONTENT_LENGTH.search(bytes(self.buffer[:end])).group(1))
        if len(self.buffer) < end + 4 + length:
            return
        self.latencies.append(time.perf_counter() - self.started)
        del self.buffer[:end + 4 + length]
        self.send_next()


async def flood(url: str, count: int) -> float:
    """`count` GETs of `url` without a session over CLIENTS connections; the seconds taken."""
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    connections = [(await loop.create_connection(AnyStatus, parts.hostname, parts.port))[1]
                   for _ in range(CLIENTS)]
    began = time.perf_counter()
    try:
        await send_all(connections, [encode(parts, {"method": "GET"})] * count)
        return time.perf_counter() - began
    finally:
        for connection in connections:
            connection.transport.close()


def run_flood(url: str, seconds: Any) -> None:
    seconds.value = uvloop.run(flood(url, FLOOD))


def reads_under_flood(url: str, owner: dict) -> tuple[float, list[float], float]:
    """The owner's reads, in rounds of OWNER_ROUND, for as long as the flood runs (in a
    process of its own, so the owner's client does not wait on the flood's): their
    requests/s and latencies, and the flood's duration."""
    seconds = multiprocessing.Value("d", 0.0)
    flooding = multiprocessing.Process(target=run_flood, args=(url, seconds))
    flooding.start()
    latencies: list[float] = []
    began = time.perf_counter()
    while flooding.is_alive():
        _, round_latencies = uvloop.run(load(url, [owner] * OWNER_ROUND, [], OWNER_CLIENTS))
        latencies += round_latencies
    rps = len(latencies) / (time.perf_counter() - began)
    flooding.join()
    return rps, latencies, seconds.value


def flood_figures(base: str, count: int) -> dict[str, Result]:
    """(d) the owner's reads alone, then during an anonymous flood of the same URL."""
    with httpx.Client(base_url=base) as client:
        auth = gated_request(client)["headers"]
    url = f"{base}/vault/licenses/1/secrets/binance"
    owner = [{"method": "GET", "headers": auth}] * (count + count // 10)
    alone_rps, alone = uvloop.run(load(url, owner[:count], owner[count:], OWNER_CLIENTS))
    during_rps, during, seconds = reads_under_flood(url, owner[0])
    return {
        "d owner read, alone": (alone_rps, percentile(alone, 50), percentile(alone, 99)),
        f"d′ owner read during {FLOOD:,} anonymous requests ({FLOOD / seconds:,.0f}/s for "
        f"{seconds:.1f} s: {len(during):,} owner reads meanwhile)": (
            during_rps, percentile(during, 50), percentile(during, 99)),
    }


def report(figures: dict[str, Result], costs: dict[str, float], count: int) -> str:
    lines = ["## Vault", "",
             f"`make bench-vault` (benchmarks/vault.py): {count} requests per endpoint, "
             f"{CLIENTS} concurrent keep-alive connections, `noderr api` (uvicorn, 1 worker) "
             "on 127.0.0.1, same machine, same run. Every vault request checks the SIWE "
             "session and the mirror, decrypts or encrypts, and appends one hash-chained "
             "audit entry: a write in its transaction; a read fetches its key and secret in one "
             "query with the reads beside it (group fetch) and commits its entry through the "
             "group commit (one head-row lock per batch) before answering. (d) and (d′): "
             f"the owner's reads over {OWNER_CLIENTS} "
             f"connections, alone ({count} reads) and, in rounds of {OWNER_ROUND}, for as long "
             f"as {FLOOD:,} requests without a session hit the same URL over {CLIENTS} "
             "connections (refused, counted, rate-limited per client, never audited); the "
             "flood's own rate is in d′'s name.", "",
             "| endpoint | requests/s | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {rps:,.0f} | {p50:.1f} | {p99:.1f} |"
              for name, (rps, p50, p99) in figures.items()]
    base, read, write, alone, during = (figures[name] for name in figures)
    lines += ["", f"Read / unauthenticated throughput: **{read[0] / base[0]:.2f}**; "
              f"write / unauthenticated: **{write[0] / base[0]:.2f}**. Owner read p99 during "
              f"the flood / alone: **{during[2] / alone[2]:.2f}×**.",
              "", "Cryptographic cost alone (one thread, no HTTP, no database):", "",
              "| step | µs per call |", "|---|---:|"]
    lines += [f"| {name} | {cost:.1f} |" for name, cost in costs.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--write", action="store_true",
                        help="put the figures in docs/benchmarks.md")
    args = parser.parse_args()
    figures, costs = run(args.requests)
    text = report(figures, costs, args.requests)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
