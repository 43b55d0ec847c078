"""Vault benchmark: requests/s and p50/p99 of (a) the unauthenticated GET /healthz, (b) a
vault read and (c) a vault write through the API (SIWE session, mirror-backed authorization,
envelope decryption, one audit entry each), all in one run against `noderr api`; and the
cryptographic cost per operation alone (no HTTP, no database).

Reuses benchmarks/api.py's setup (anvil, embedded PostgreSQL, deployment, a minted license,
one indexer pass) and its load generator. With --write, appends a "Vault" section to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from backend.vault.audit import entry_hash
from backend.vault.crypto import TokenBinding, encode_secret, new_key, open_sealed, seal
from backend.vault.keys import LocalKeyring, write_keyring
from backend.vault.rotation import next_ring
from noderr.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
sys.path.insert(0, str(REPO_ROOT))
from api import CLIENTS, gated_request, measure, prepare, serve_api, stop_postgres
from report import write_section

SECRET = {"exchange": "binance", "api_key": "A" * 64, "api_secret": "S" * 64,
          "passphrase": "P" * 24}
Result = tuple[float, float, float]


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
                return api_figures(base, count), crypto_costs(key_file)
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


def report(figures: dict[str, Result], costs: dict[str, float], count: int) -> str:
    lines = ["## Vault", "",
             f"`make bench-vault` (benchmarks/vault.py): {count} requests per endpoint, "
             f"{CLIENTS} concurrent keep-alive connections, `noderr api` (uvicorn, 1 worker) "
             "on 127.0.0.1, same machine, same run. Every vault request checks the SIWE "
             "session and the mirror, decrypts or encrypts, and appends one hash-chained "
             "audit entry (serialized on the audit head row) in its transaction.", "",
             "| endpoint | requests/s | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {rps:,.0f} | {p50:.1f} | {p99:.1f} |"
              for name, (rps, p50, p99) in figures.items()]
    base, read, write = (figures[name][0] for name in figures)
    lines += ["", f"Read / unauthenticated throughput: **{read / base:.2f}**; "
              f"write / unauthenticated: **{write / base:.2f}**.",
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
