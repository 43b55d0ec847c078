"""Starting the local chain: anvil, from the npm package `@foundry-rs/anvil`."""

from __future__ import annotations

import platform
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from noderr import jsonrpc
from noderr.ports import PortTaken, exited_at_start, listens
from noderr.settings import LOCAL_CHAIN_ID, REPO_ROOT

_PLATFORMS = {("Linux", "x86_64"): "linux-amd64", ("Linux", "aarch64"): "linux-arm64",
              ("Darwin", "arm64"): "darwin-arm64", ("Darwin", "x86_64"): "darwin-amd64"}


def anvil_binary() -> Path:
    """The native anvil binary (not the node wrapper in .bin/), so one PID owns the chain."""
    suffix = _PLATFORMS.get((platform.system(), platform.machine()))
    if suffix is None:
        raise RuntimeError(f"anvil has no npm build for {platform.system()} {platform.machine()}")
    path = REPO_ROOT / "node_modules" / "@foundry-rs" / f"anvil-{suffix}" / "bin" / "anvil"
    if not path.is_file():
        raise RuntimeError(f"anvil not found at {path}: run `make setup`")
    return path


def anvil_command(port: int, chain_id: int, host: str = "127.0.0.1",
                  block_time: float | None = None, accounts: int | None = None) -> list[str]:
    command = [str(anvil_binary()), "--host", host, "--port", str(port),
               "--chain-id", str(chain_id), "--silent"]
    if block_time:
        command += ["--block-time", str(block_time)]
    if accounts:
        command += ["--accounts", str(accounts)]
    return command


def wait_for_rpc(url: str, timeout: float = 15.0,
                 process: subprocess.Popen | None = None) -> int:
    """Block until `url` answers `eth_chainId`; return the chain id. Given `process` (the
    anvil we started), only its own listener counts and PortTaken comes as soon as it
    exits (see noderr/ports.py)."""
    port = urlsplit(url).port or 80
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and (taken := exited_at_start(process, "anvil", port)):
            raise taken
        try:
            chain_id = int(jsonrpc.call(url, "eth_chainId", timeout=1.0), 16)
            if process is None or listens(process, port):
                return chain_id
        except (jsonrpc.JsonRpcError, TypeError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"no JSON-RPC answer from {url} in {timeout:.0f}s")
        time.sleep(0.05)


def start_anvil(port: int, chain_id: int = LOCAL_CHAIN_ID, **kwargs) -> subprocess.Popen:
    """Start anvil in the background and wait until it answers."""
    process = subprocess.Popen(anvil_command(port, chain_id, **kwargs),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        wait_for_rpc(f"http://127.0.0.1:{port}", process=process)
    except (TimeoutError, PortTaken):
        process.kill()
        raise
    return process
