from __future__ import annotations

from collections.abc import Iterator

import pytest

from node.bus.server import NatsServer
from noderr.ports import free_port


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real nats-server with JetStream (the venv's), on a free port."""
    store = tmp_path_factory.mktemp("nats") / "store"
    server = NatsServer(f"nats://127.0.0.1:{free_port()}", store,
                        log_file=store.parent / "nats.log")
    server.start()
    yield server.url
    server.stop()
