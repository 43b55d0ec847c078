"""`noderr trade paper` as a person runs it: a PAPER replay through the Guardian checks, its
summary reconciling with the equity curve it writes, and one line for bad input."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

from typer.testing import CliRunner

from noderr_cli.main import app

runner = CliRunner()


def test_trade_paper__replay__summary_matches_the_equity_curve(tmp_path):
    curve = tmp_path / "equity.csv"
    result = runner.invoke(app, ["trade", "paper", "--days", "150", "--json",
                                 "--equity-csv", str(curve)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["mode"].startswith("PAPER") and report["orders"] > 0
    rows = list(csv.DictReader(curve.open()))
    assert len(rows) == 150
    last = rows[-1]
    assert Decimal(last["equity"]).quantize(Decimal("0.01")) == Decimal(report["final_equity"])
    assert Decimal(last["equity"]) == Decimal(last["cash"]) + Decimal(last["market_value"])


def test_trade_paper__tight_notional_limit__orders_refused_by_that_check():
    result = runner.invoke(app, ["trade", "paper", "--days", "150", "--max-notional", "1000",
                                 "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["refused"].get("order_notional", 0) > 0 and report["fills"] == 0


def test_trade_paper__unknown_feed__one_line_naming_the_known_ones():
    result = runner.invoke(app, ["trade", "paper", "--feed", "XYZ"])
    assert result.exit_code == 1
    assert "no replay data for 'XYZ'; known: SP500, NASDAQ, GOOG, EURUSD" in result.output


def test_trade_paper__bad_start__one_line():
    result = runner.invoke(app, ["trade", "paper", "--start", "yesterday"])
    assert result.exit_code == 1 and "--start must be a date YYYY-MM-DD" in result.output


def test_trade_paper__no_data_after_start__refused():
    result = runner.invoke(app, ["trade", "paper", "--start", "2030-01-01"])
    assert result.exit_code == 1 and "SP500 has no data from 2030-01-01" in result.output


def test_trade_paper__rounds_without_onchain__one_line():
    result = runner.invoke(app, ["trade", "paper", "--rounds", "3"])
    assert result.exit_code == 1 and "--rounds is for --onchain" in result.output


def test_trade_paper__fast_not_below_slow__one_line():
    result = runner.invoke(app, ["trade", "paper", "--fast", "5", "--slow", "5"])
    assert result.exit_code == 1 and "--fast (5) must be below --slow (5)" in result.output


def test_trade_paper_onchain__with_ml__refused_in_one_line():
    result = runner.invoke(app, ["trade", "paper", "--onchain", "--ml", "127.0.0.1:1"])
    assert result.exit_code == 1 and "--ml is for the replay" in result.output


def test_trade_paper_onchain__no_chain__one_line_naming_the_feed(unreachable_chain):
    result = runner.invoke(app, ["trade", "paper", "--onchain", "--feed", "NASDAQ"])
    assert result.exit_code == 1
    assert "error: cannot read NodeFeed.NASDAQ: no JSON-RPC answer from" in result.output
