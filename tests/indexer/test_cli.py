"""`noderr db …` and `noderr index …`: clear one-line errors, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from noderr.ports import free_port
from tests.backend.helpers import sample


def _noderr(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "noderr_cli", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)


def test_index_once__unreachable_rpc__one_line_error(database_url, tmp_path):
    result = _noderr("index", "--once", NODERR_DATABASE_URL=database_url,
                     NODERR_RPC_URL=f"http://127.0.0.1:{free_port()}",
                     NODERR_DEPLOYMENT=str(tmp_path / "missing.json"))
    assert result.returncode == 1
    assert "error: no deployment file" in result.stderr and "Traceback" not in result.stderr


def test_index__schema_not_migrated__asks_for_db_upgrade(pg_server, stack):
    result = _noderr("index", "--once", NODERR_DATABASE_URL=pg_server,
                     NODERR_RPC_URL=stack.rpc_url, NODERR_DEPLOYMENT=str(stack.deployment_path))
    assert result.returncode == 1 and "run `noderr db upgrade`" in result.stderr


def test_db_upgrade_then_index_once_then_rebuild(make_database, stack):
    import psycopg

    from noderr.migrate import head_revision

    url = make_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    env = {"NODERR_DATABASE_URL": url, "NODERR_RPC_URL": stack.rpc_url,
           "NODERR_DEPLOYMENT": str(stack.deployment_path)}
    assert f"at revision {head_revision()}" in _noderr("db", "upgrade", **env).stdout
    indexed = _noderr("index", "--once", "--no-progress", **env)
    assert indexed.returncode == 0, indexed.stderr
    assert f"up to block {stack.w3.eth.block_number}" in indexed.stdout
    rebuilt = _noderr("index", "rebuild", **env)
    assert rebuilt.returncode == 0 and "rebuilt projections of chain 31337" in rebuilt.stdout


def test_index__confirmations_at_max_lag__refuses_naming_both(database_url, tmp_path):
    result = _noderr("index", NODERR_DATABASE_URL=database_url,
                     NODERR_INDEXER_CONFIRMATIONS="5", NODERR_MAX_LAG_BLOCKS="5",
                     NODERR_RPC_URL=f"http://127.0.0.1:{free_port()}",
                     NODERR_DEPLOYMENT=str(tmp_path / "missing.json"))
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: NODERR_INDEXER_CONFIRMATIONS (5) must be below "
                           "NODERR_MAX_LAG_BLOCKS (5)")


def test_index__confirmations_below_max_lag__gets_past_the_check(database_url, tmp_path):
    result = _noderr("index", "--once", NODERR_DATABASE_URL=database_url,
                     NODERR_INDEXER_CONFIRMATIONS="4", NODERR_MAX_LAG_BLOCKS="5",
                     NODERR_RPC_URL=f"http://127.0.0.1:{free_port()}",
                     NODERR_DEPLOYMENT=str(tmp_path / "missing.json"))
    assert result.returncode == 1 and "error: no deployment file" in result.stderr


def test_index_once__metrics_file__lag_and_its_limit(database_url, stack, tmp_path):
    metrics = tmp_path / "indexer.prom"
    indexed = _noderr("index", "--once", "--no-progress", "--metrics-file", str(metrics),
                      NODERR_DATABASE_URL=database_url, NODERR_RPC_URL=stack.rpc_url,
                      NODERR_DEPLOYMENT=str(stack.deployment_path), NODERR_MAX_LAG_BLOCKS="7")
    assert indexed.returncode == 0, indexed.stderr
    text = metrics.read_text()
    assert sample(text, "noderr_indexer_max_lag_blocks", chain_id="31337") == 7
    assert sample(text, "noderr_indexer_lag_blocks", chain_id="31337") == 0
