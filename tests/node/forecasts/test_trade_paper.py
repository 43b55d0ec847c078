"""`noderr trade paper --ml HOST:PORT` against a real ML server: positions sized from its
forecasts, or from the EWMA with every refusal counted by its gRPC status; in process it needs
the desk's key to sign in (the sign-in itself is the backend's, replaced here by a session
token the fake backend knows)."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from node import trade_cli
from noderr_cli.main import app

runner = CliRunner()
PAPER = ["trade", "paper", "--days", "160", "--json"]


def report_of(output: str) -> dict:
    return json.loads(output[output.index("{"):])


def signed_in_as(token: str):
    @contextmanager
    def signed_in(keystore, password_file, account):
        yield token
    return signed_in


@pytest.fixture(scope="module")
def ewma_run() -> dict:
    result = runner.invoke(app, PAPER)
    assert result.exit_code == 0, result.output
    return report_of(result.output)


def test_trade_paper__ml_in_process_without_a_key__one_line_asking_for_it(target: str):
    result = runner.invoke(app, [*PAPER, "--ml", target])

    assert result.exit_code == 1
    assert "--ml needs a session" in result.output and "--account" in result.output


def test_trade_paper__ml_forecasts__positions_sized_from_them(
        target: str, ewma_run: dict, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(trade_cli, "signed_in", signed_in_as("oracle"))

    result = runner.invoke(app, [*PAPER, "--ml", target, "--account", "0"])

    assert result.exit_code == 0, result.output
    report = report_of(result.output)
    assert report["volatility"].startswith(f"ML {target}: ")
    assert "0 EWMA fallback(s)" in report["volatility"]
    assert report["orders"] > 0 and report["final_equity"] != ewma_run["final_equity"]


def test_trade_paper__ml_refuses_the_key__sized_from_the_ewma_with_the_status_counted(
        target: str, ewma_run: dict, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(trade_cli, "signed_in", signed_in_as("unlicensed"))

    result = runner.invoke(app, [*PAPER, "--ml", target, "--account", "0"])

    assert result.exit_code == 0, result.output
    report = report_of(result.output)
    assert report["volatility"].startswith(f"ML {target}: 0 forecast(s)")
    assert "(PERMISSION_DENIED x" in report["volatility"]
    assert {key: value for key, value in report.items() if key != "volatility"} == ewma_run
