"""The demo's node network, sized for two cores: the four genesis validators (anvil #4-#7),
two oracles (#10, #11) and two guardians (#12, #13) whose licenses anvil #0 mints at start,
each a `noderr node run` process. Anvil runs with DEMO_ACCOUNTS accounts for them; the guardians
ask the demo's ML server for volatility forecasts (NODERR_ML_TARGET)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from eth_utils import keccak
from web3 import Web3

from noderr.deployment import Deployment
from noderr.domain import NodeType
from noderr_cli.services import Services, running, start_service

DEMO_ACCOUNTS = 14
VALIDATORS = (4, 5, 6, 7)
MINTED = ((NodeType.ORACLE, 10), (NodeType.ORACLE, 11),
          (NodeType.GUARDIAN, 12), (NodeType.GUARDIAN, 13))
START_TIMEOUT_S = 90.0


def network_nodes() -> list[tuple[NodeType, int]]:
    return [(NodeType.VALIDATOR, account) for account in VALIDATORS] + list(MINTED)


def mint_demo_licenses(w3: Web3, deployment: Deployment) -> None:
    """Oracle and Guardian licenses for the demo's nodes, from anvil #0 (the MINTER)."""
    record = deployment.contracts["NodeLicense"]
    license_ = w3.eth.contract(address=record.address, abi=record.abi)
    admin = w3.eth.accounts[0]
    for node_type, account in MINTED:
        owner = w3.eth.accounts[account]
        tx = license_.functions.mint(owner, node_type, keccak(text=f"demo:{owner}")).transact(
            {"from": admin})
        if w3.eth.wait_for_transaction_receipt(tx)["status"] != 1:
            raise RuntimeError(f"minting the demo's {node_type.label} license to #{account} "
                               "reverted")


def wait_until_members(api_url: str, addresses: set[str], timeout: float = 30) -> None:
    """Until the backend's mirror lists every one of `addresses` as a licensed member."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        members = httpx.get(f"{api_url}/network/members", timeout=10).json()["members"]
        if addresses <= {member["address"] for member in members}:
            return
        time.sleep(0.25)
    raise RuntimeError("the indexer did not mirror the demo's licenses in time")


def wait_activated(log_path: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if log_path.exists() and "node activated" in log_path.read_text(errors="replace"):
            return
        time.sleep(0.25)
    raise RuntimeError(f"a demo node did not activate in time; see {log_path}")


@contextlib.contextmanager
def node_network(services: Services, deployment: Deployment, w3: Web3,
                 log_dir: Path, ml_target: str = "") -> Iterator[list[str]]:
    """Mint the licenses, start every node (the guardians with `ml_target`, the ML server's
    gRPC host:port, empty: none), wait until each has activated; the summary lines. Leaving
    the context stops every node."""
    mint_demo_licenses(w3, deployment)
    wait_until_members(services.api_url, {w3.eth.accounts[account]
                                          for _, account in network_nodes()})
    guardian_services = dataclasses.replace(
        services, overrides={**services.overrides, "NODERR_ML_TARGET": ml_target})
    with contextlib.ExitStack() as stack:
        logs = []
        for node_type, account in network_nodes():
            log = log_dir / f"node-{node_type.label.lower()}-{account}.log"
            with contextlib.suppress(FileNotFoundError):
                os.remove(log)
            stack.enter_context(running(start_service(
                ["node", "run", "--type", node_type.label.lower(), "--account", str(account)],
                guardian_services if node_type is NodeType.GUARDIAN else services, log)))
            logs.append(log)
        deadline = time.monotonic() + START_TIMEOUT_S
        for log in logs:
            wait_activated(log, deadline)
        yield [f"Network    validators #4-#7, oracles #10 #11, guardians #12 #13 "
               f"(noderr node run processes; logs {log_dir}/node-*.log); "
               f"{services.api_url}/network/nodes and the dashboard's Network page"]
