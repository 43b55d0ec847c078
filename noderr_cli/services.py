"""The local stack's processes as `noderr` subprocesses on one chain, deployment and database:
where each listens, their shared environment, starting and stopping them. Used by the demo,
the service tests and the benchmarks."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx

DEMO_FORM_ID = "noderr-demo"


@dataclass(frozen=True)
class Services:
    """Where the demo's services listen and what they share."""

    rpc_url: str
    deployment: Path
    database_url: str
    api_port: int = 8000
    dashboard_port: int = 8501
    typeform_secret: str = ""
    bus_url: str = "nats://127.0.0.1:4222"
    vault_key_file: Path | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    """More NODERR_* settings for every service (tests: generous rate limits)."""

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    def env(self) -> dict[str, str]:
        """The environment of every service: one chain, one deployment, one database."""
        return {**os.environ, "NODERR_RPC_URL": self.rpc_url,
                "NODERR_DEPLOYMENT": str(self.deployment),
                "NODERR_DATABASE_URL": self.database_url, "NODERR_API_URL": self.api_url,
                "NODERR_TYPEFORM_SECRET": self.typeform_secret,
                "NODERR_TYPEFORM_FORM_ID": DEMO_FORM_ID,
                "NODERR_SIWE_DOMAINS": f"{self.api_url},{self.dashboard_url},"
                                       f"http://localhost:{self.dashboard_port}",
                "NODERR_INDEXER_POLL_INTERVAL": "0.5", "NODERR_BUS_URL": self.bus_url,
                **({"NODERR_VAULT_KEY_FILE": str(self.vault_key_file)}
                   if self.vault_key_file else {}), **self.overrides}


def answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=0.5)
    except httpx.HTTPError:
        return False
    return True


def accepts_connections(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 4222),
                                      timeout=0.5):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def running(process: subprocess.Popen) -> Iterator[subprocess.Popen]:
    try:
        yield process
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()


def start_service(args: list[str], services: Services, log_path: Path) -> subprocess.Popen:
    """`noderr <args>` in the background, in this directory (so it finds the same local
    state), output to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "noderr_cli", *args],
                                env=services.env(), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def ensure_vault_keyring(services: Services, key_file: Path, log_path: Path) -> None:
    """A first vault master key (`noderr vault rotate`) unless `key_file` already holds one:
    nodes read their credentials from the vault as they start."""
    if key_file.exists():
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        subprocess.run([sys.executable, "-m", "noderr_cli", "vault", "rotate"], check=True,
                       env={**services.env(), "NODERR_VAULT_KEY_FILE": str(key_file)},
                       stdout=log, stderr=subprocess.STDOUT)


def wait_http(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not answers(url):
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with code {process.returncode}; see {log_path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer in {timeout:.0f}s; see {log_path}")
        time.sleep(0.2)


@contextlib.contextmanager
def backend_services(services: Services, log_dir: Path,
                     dashboard: bool = True) -> Iterator[None]:
    """Indexer, API and (unless `dashboard` is False) dashboard, each answering before this
    yields."""
    with contextlib.ExitStack() as stack:
        logs = {name: log_dir / f"{name}.log" for name in ("indexer", "api", "dashboard")}
        stack.enter_context(running(start_service(["index"], services, logs["indexer"])))
        api = stack.enter_context(running(start_service(
            ["api", "--port", str(services.api_port)], services, logs["api"])))
        wait_http(f"{services.api_url}/healthz", api, logs["api"])
        if not dashboard:
            yield
            return
        ui = stack.enter_context(running(start_service(
            ["dashboard", "--port", str(services.dashboard_port)], services, logs["dashboard"])))
        wait_http(f"{services.dashboard_url}/_stcore/health", ui, logs["dashboard"])
        yield


ML_PORT = 50051


@contextlib.contextmanager
def ml_service(services: Services, log_dir: Path, port: int = ML_PORT) -> Iterator[str]:
    """The ML server on 127.0.0.1:`port`, yielding its gRPC target. Without an artifact in
    NODERR_ML_DIR it first fits one on S&P 500 (no walk-forward: about a minute on one core);
    later runs reuse it."""
    from ml.settings import get_ml_settings

    log_path = log_dir / "ml.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if not any(get_ml_settings().artifact_dir().glob("*/manifest.json")):
        with log_path.open("ab") as log:
            subprocess.run([sys.executable, "-m", "noderr_cli", "ml", "train", "--data", "sp500",
                            "--no-evaluation"], check=True, env=services.env(), stdout=log,
                           stderr=subprocess.STDOUT)
    target = f"127.0.0.1:{port}"
    with running(start_service(["ml", "serve", "--port", str(port)], services,
                               log_path)) as server:
        deadline = time.monotonic() + 60
        while not accepts_connections(f"grpc://{target}"):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the ML server did not start on {target}; see {log_path}")
            time.sleep(0.2)
        yield target
