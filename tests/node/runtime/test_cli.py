"""`noderr node …` and `noderr bus` as a person types them: the catalogue, and one clear line
for every way the node's key or the bus URL can be wrong."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from node.settings import get_node_settings
from noderr.catalogue import CATALOGUE
from noderr.ports import free_port
from noderr_cli.main import app
from onchain.anvil import start_anvil

runner = CliRunner()


def test_node_functions__json__the_55_catalogue_rows():
    result = runner.invoke(app, ["node", "functions", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [(row["name"], row["node_type"], row["category"]) for row in rows] == [
        (spec.name, spec.node_type.label, spec.category) for spec in CATALOGUE]
    assert len(rows) == 55


def test_node_functions__table__one_line_per_function():
    result = runner.invoke(app, ["node", "functions"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 55 and lines[0].split()[:2] == ["Oracle", "aggregate_median_price"]


@pytest.mark.parametrize("arguments", [
    [], ["--account", "1", "--keystore", "key.json"], ["--keystore", "key.json"],
    ["--password-file", "password"]])
def test_node_run__key_not_given_exactly_one_way__one_line_naming_both_ways(arguments):
    result = runner.invoke(app, ["node", "run", "--type", "oracle", *arguments])
    assert result.exit_code == 1
    assert "give the node's key as --keystore FILE --password-file FILE" in result.output


def test_node_run__unknown_type__refused():
    result = runner.invoke(app, ["node", "run", "--type", "wizard", "--account", "1"])
    assert result.exit_code == 2 and "wizard" in result.output


def test_node_run__account_on_a_non_local_chain__refused(monkeypatch):
    port = free_port()
    anvil = start_anvil(port, 5)
    try:
        monkeypatch.setenv("NODERR_RPC_URL", f"http://127.0.0.1:{port}")
        get_node_settings.cache_clear()
        result = runner.invoke(app, ["node", "run", "--type", "oracle", "--account", "1"])
    finally:
        get_node_settings.cache_clear()
        anvil.kill()
        anvil.wait()
    assert result.exit_code == 1
    assert "--account is for the local chain (31337) only; this chain is 5" in result.output


def test_node_run__chain_unreachable__one_line_naming_the_url(monkeypatch):
    monkeypatch.setenv("NODERR_RPC_URL", f"http://127.0.0.1:{free_port()}")
    get_node_settings.cache_clear()
    try:
        result = runner.invoke(app, ["node", "run", "--type", "oracle", "--account", "1"])
    finally:
        get_node_settings.cache_clear()
    assert result.exit_code == 1 and "cannot read the chain id from http://127.0.0.1:" \
        in result.output


def test_bus__not_a_nats_url__refused():
    result = runner.invoke(app, ["bus", "--url", "http://127.0.0.1:4222"])
    assert result.exit_code == 1
    assert "bus URL must look like nats://HOST:PORT" in result.output
