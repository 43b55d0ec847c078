from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.bus.envelope import Domain, Signer
from node.bus.membership import Membership
from node.bus.server import NatsServer
from node.bus.verify import Verifier
from noderr.domain import NodeType
from noderr.ports import free_port
from tests.node.bus.helpers import (
    CHAIN_ID,
    GUARDIAN_KEY,
    ORACLE_KEY,
    OUTSIDER_KEY,
    VALIDATOR_KEY,
    signer,
)

INDEXED_BLOCK = 10


def start_server(store_dir: Path) -> NatsServer:
    server = NatsServer(f"nats://127.0.0.1:{free_port()}", store_dir,
                        log_file=store_dir.parent / "nats.log")
    server.start()
    return server


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real nats-server with JetStream for the session, on a free port."""
    server = start_server(tmp_path_factory.mktemp("nats") / "store")
    yield server.url
    server.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A server of the test's own, for tests that stop and restart it."""
    server = start_server(tmp_path / "store")
    yield server
    server.stop()


@pytest.fixture
def domain() -> Domain:
    return Domain(CHAIN_ID)


@pytest.fixture
def oracle() -> Signer:
    return signer(ORACLE_KEY, NodeType.ORACLE)


@pytest.fixture
def guardian() -> Signer:
    return signer(GUARDIAN_KEY, NodeType.GUARDIAN)


@pytest.fixture
def validator() -> Signer:
    return signer(VALIDATOR_KEY, NodeType.VALIDATOR)


@pytest.fixture
def outsider() -> Signer:
    """A well-formed signer that holds no license."""
    return signer(OUTSIDER_KEY, NodeType.ORACLE)


@pytest.fixture
def membership(oracle: Signer, guardian: Signer, validator: Signer) -> Membership:
    """One active license each for the oracle, guardian and validator keys."""
    members = Membership()
    members.update(INDEXED_BLOCK, [(oracle.address, NodeType.ORACLE, 1),
                                   (guardian.address, NodeType.GUARDIAN, 2),
                                   (validator.address, NodeType.VALIDATOR, 3)])
    return members


@pytest.fixture
def verifier(domain: Domain, membership: Membership) -> Verifier:
    return Verifier(domain, membership)
