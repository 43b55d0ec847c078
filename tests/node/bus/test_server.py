"""The nats-server process: started with JetStream, waited for, stopped cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from node.bus.server import (
    NatsServer,
    PortTaken,
    host_and_port,
    nats_server_binary,
    server_command,
    wait_until_accepting,
)
from node.bus.settings import BusSettings
from noderr.ports import free_port
from noderr.settings import REPO_ROOT, get_settings


def test_host_and_port__nats_url__split():
    assert host_and_port("nats://127.0.0.1:4333") == ("127.0.0.1", 4333)
    assert host_and_port("nats://localhost") == ("localhost", 4222)


@pytest.mark.parametrize("url", ["http://127.0.0.1:4222", "127.0.0.1:4222", "nats://"])
def test_host_and_port__not_a_nats_url__refused(url: str):
    with pytest.raises(ValueError, match="nats://HOST:PORT"):
        host_and_port(url)


def test_server_command__store_dir__jetstream_on_file_storage(tmp_path: Path):
    command = server_command("nats://127.0.0.1:4333", tmp_path, monitor_port=8333)

    assert command[0] == str(nats_server_binary())
    assert Path(command[0]).parent == Path(sys.executable).parent
    assert {"--jetstream", "--store_dir", str(tmp_path), "--http_port", "8333"} <= set(command)


def test_start__already_running__refused(own_server: NatsServer):
    with pytest.raises(RuntimeError, match="already running"):
        own_server.start()


def test_start__port_held_by_another_server__refused_and_the_other_unharmed(
        own_server: NatsServer, tmp_path: Path):
    intruder = NatsServer(own_server.url, tmp_path / "second")

    with pytest.raises(PortTaken, match=f"is port {host_and_port(own_server.url)[1]} in use"):
        intruder.start()
    assert not intruder.running
    assert own_server.running
    wait_until_accepting(own_server.url, timeout=1, process=own_server.process)


def test_stop__running_server__port_closed_and_store_written(own_server: NatsServer):
    own_server.stop()

    assert not own_server.running
    assert (own_server.store_dir / "jetstream").is_dir()
    with pytest.raises(TimeoutError):
        wait_until_accepting(own_server.url, timeout=0.2)


def test_run_server__interrupted__stops_the_server(tmp_path: Path):
    url = f"nats://127.0.0.1:{free_port()}"
    script = ("import sys; from pathlib import Path; from node.bus.server import run_server; "
              f"sys.exit(run_server({url!r}, Path({str(tmp_path / 'store')!r})))")
    runner = subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        wait_until_accepting(url)
        runner.send_signal(signal.SIGINT)
        runner.wait(timeout=15)
    finally:
        runner.kill()

    with pytest.raises(TimeoutError):
        wait_until_accepting(url, timeout=0.2)


def test_settings__defaults__local_bus_under_the_data_folder(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path):
    monkeypatch.setenv("NODERR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("NODERR_BUS_URL", raising=False)
    monkeypatch.delenv("NODERR_BUS_DIR", raising=False)
    get_settings.cache_clear()
    try:
        settings = BusSettings()
        assert settings.bus_url == "nats://127.0.0.1:4222"
        assert settings.store_dir() == tmp_path / "bus"
    finally:
        get_settings.cache_clear()
