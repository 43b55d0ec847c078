from collections.abc import Iterator

import pytest

from noderr.ports import free_port
from onchain.anvil import start_anvil


@pytest.fixture
def anvil_factory() -> Iterator:
    """Start anvil chains on free ports; all are stopped after the test."""
    processes = []

    def start(chain_id: int = 31337) -> str:
        port = free_port()
        processes.append(start_anvil(port, chain_id))
        return f"http://127.0.0.1:{port}"

    yield start
    for process in processes:
        process.kill()
        process.wait()
