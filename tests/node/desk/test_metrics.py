"""The desk's Prometheus metrics: `noderr trade paper --metrics-port` serves them while it runs,
and a scrape after the run gives back its summary; orders refused while halted count apart."""

from __future__ import annotations

import csv
import json
import urllib.request
from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from node.desk.desk import PaperDesk
from node.desk.gate import LocalRiskGate
from node.desk.portfolio import Portfolio
from node.guardian.risk import compute_drawdown
from node.guardian.shutdown import TradingState
from node.runtime.desk_metrics import DeskMetrics
from noderr.ports import free_port
from noderr_cli.main import app
from tests.node.desk.builders import AT, ScriptedStrategy

runner = CliRunner()
TIGHT = ["--cash", "10000", "--max-notional", "10000", "--max-position", "100"]
"""Some of the strategy's orders are over the notional limit, some within (as in
tests/node/guardians/test_desk_live.py)."""


def scraped(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_trade_paper__metrics_port__scrape_matches_the_summary(tmp_path):
    port, curve = free_port(), tmp_path / "equity.csv"
    result = runner.invoke(app, ["trade", "paper", "--days", "130", *TIGHT, "--json",
                                 "--equity-csv", str(curve), "--metrics-port", str(port)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    samples = scraped(port)

    refused = {dict(labels)["check"]: value for (name, labels), value in samples.items()
               if name == "noderr_desk_orders_total" and ("outcome", "refused") in labels}
    assert report["refused"].get("order_notional", 0) > 0 and report["orders"] > 0
    assert refused == report["refused"]
    assert samples["noderr_desk_orders_total", (("check", ""), ("outcome", "sent"))] == \
        report["orders"]
    assert samples["noderr_desk_fills_total", ()] == report["fills"]
    equity = samples["noderr_desk_equity", ()]
    assert f"{Decimal(equity):.2f}" == report["final_equity"]
    equities = [float(row["equity"]) for row in csv.DictReader(curve.open())]
    assert samples["noderr_desk_drawdown", ()] == pytest.approx(
        compute_drawdown(equities).current, abs=1e-12)
    assert samples["noderr_desk_risk_check_seconds_count", (("gate", "in_process"),)] == \
        report["orders"] + sum(report["refused"].values())


def test_trade_paper__metrics_port_taken__one_line():
    port = free_port()
    DeskMetrics("in_process").serve(port)

    result = runner.invoke(app, ["trade", "paper", "--days", "2", "--metrics-port", str(port)])

    assert result.exit_code == 1 and f"--metrics-port {port}: " in result.output


def test_stepped__halted_desk__orders_counted_as_halted_and_the_gate_never_timed(flat_venue):
    metrics = DeskMetrics("in_process")
    desk = PaperDesk(flat_venue, Portfolio(Decimal(1_000)), ScriptedStrategy([[("buy", "1")]]),
                     metrics.timed(LocalRiskGate({"SP500": 1e6}, {"SP500": 1e6})),
                     trading_state=TradingState.HALTED)

    metrics.stepped(desk.step("SP500", 100, AT))

    assert metrics.registry.get_sample_value(
        "noderr_desk_orders_total", {"outcome": "halted", "check": "halted"}) == 1
    assert metrics.registry.get_sample_value(
        "noderr_desk_orders_total", {"outcome": "sent", "check": ""}) == 0
    assert metrics.registry.get_sample_value(
        "noderr_desk_risk_check_seconds_count", {"gate": "in_process"}) == 0
