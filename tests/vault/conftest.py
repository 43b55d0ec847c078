"""Vault fixtures: the backend's (shared Postgres, anvil with the stack, license operations),
a keyring file per test and apps carrying a vault that uses it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.settings import BackendSettings
from backend.vault.keys import write_keyring
from backend.vault.rotation import next_ring
from backend.vault.service import Vault
from backend.vault.settings import VaultSettings
from backend.vault.store import GroupFetch
from noderr.settings import get_settings
from tests.backend.conftest import (  # noqa: F401 - fixtures
    chain,
    database_url,
    db,
    deployment,
    ops,
    rpc_url,
    settings,
    w3,
)
from tests.fixtures_chain import make_database  # noqa: F401
from tests.vault.helpers import VaultApi


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "vault" / "master-keys.json"
    write_keyring(path, next_ring(None))
    return path


@pytest.fixture
def vault_settings(key_file: Path) -> VaultSettings:
    return VaultSettings(key_file=key_file, shred_interval=3600,
                         auditor_roles=["AUDITOR_ROLE"])


@pytest.fixture
def make_vault_client(chain, database_url, db, w3, settings, vault_settings  # noqa: F811
                      ) -> Iterator[Callable[..., TestClient]]:
    with contextlib.ExitStack() as clients:

        def make(vault: Vault | None = None,
                 backend_settings: BackendSettings = settings) -> TestClient:
            app = create_app(backend_settings, chain[1], database_url, chain[0])
            app.state.vault = vault or Vault(vault_settings)
            return clients.enter_context(TestClient(app, base_url="http://127.0.0.1:8000"))

        yield make


@pytest.fixture
def client(make_vault_client) -> TestClient:
    return make_vault_client()


@pytest.fixture
def api(client, ops) -> VaultApi:  # noqa: F811
    return VaultApi(client, ops)


@pytest.fixture
def cli_env(monkeypatch, database_url, key_file) -> Iterator[None]:  # noqa: F811
    """`noderr vault ...` in-process against this test's database and keyring."""
    monkeypatch.setenv("NODERR_DATABASE_URL", database_url)
    monkeypatch.setenv("NODERR_VAULT_KEY_FILE", str(key_file))
    monkeypatch.delenv("NODERR_VAULT_MASTER_KEYS", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def fetch_breaks(db) -> Callable[[], object]:  # noqa: F811
    """From the call on, every vault read's fetch fails (its secrets table is gone)."""
    return lambda: db.execute("ALTER TABLE vault_secrets RENAME TO vault_secrets_gone")


@pytest.fixture
def fetch_batches(monkeypatch) -> list[int]:
    """The size of every batch the vault reads' group fetch handles from now on."""
    sizes: list[int] = []
    handle = GroupFetch.handle

    async def counted(self: GroupFetch, wanted: list) -> list:
        sizes.append(len(wanted))
        return await handle(self, wanted)

    monkeypatch.setattr(GroupFetch, "handle", counted)
    return sizes
