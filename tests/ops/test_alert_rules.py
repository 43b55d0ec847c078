"""The alert rules (ops/prometheus/alerts.yml) pass `promtool check rules`, and their unit tests
(alerts_test.yml) pass `promtool test rules`. The unit tests are shown to bite: each alert made
to never fire, or to fire on the healthy series beside the bad ones, fails them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.ops.conftest import RULES

ALERTS = ("NoderrIndexerLagging", "NoderrConsensusStalled", "NoderrNodeMissingHeartbeats",
          "NoderrTradingHalted", "NoderrVaultAuditFailing", "NoderrGatedServerErrors",
          "NoderrServiceDown", "NoderrDeskRefusingOrders", "NoderrDeskHalted",
          "NoderrMLServerErrors")
LOOSENED = {
    "NoderrIndexerLagging": "noderr_indexer_lag_blocks >= noderr_indexer_max_lag_blocks",
    "NoderrConsensusStalled": "time() - noderr_consensus_last_round_timestamp_seconds >= 0",
    "NoderrNodeMissingHeartbeats": 'noderr_network_nodes{status="stale"} >= 0',
    "NoderrTradingHalted": "max without (instance) (noderr_trading_halted) >= 0",
    "NoderrVaultAuditFailing": "increase(noderr_vault_audit_failures_total[5m]) >= 0",
    "NoderrGatedServerErrors": (
        'sum without (instance, route, method, status) (rate(noderr_api_requests_total{'
        'gated="true", status=~"5.."}[5m])) / sum without (instance, route, method, status) '
        '(rate(noderr_api_requests_total{gated="true"}[5m])) > 0'),
    "NoderrMLServerErrors": (
        'sum without (instance, method, code) (rate(noderr_ml_requests_total{code=~"UNAVAILABLE|'
        'DEADLINE_EXCEEDED|UNKNOWN|INTERNAL"}[5m])) / sum without (instance, method, code) ('
        'rate(noderr_ml_requests_total{code!~"UNAUTHENTICATED|PERMISSION_DENIED|'
        'INVALID_ARGUMENT"}[5m])) > 0'),
    "NoderrServiceDown": "up == 0",
    "NoderrDeskRefusingOrders": (
        'sum by (job, instance) (increase(noderr_desk_orders_total{outcome="refused"}[15m])) '
        '>= 0'),
    "NoderrDeskHalted": (
        'sum by (job, instance) (increase(noderr_desk_orders_total{outcome="halted"}[5m])) >= 0'),
}
"""Each alert's expression loosened so that it also fires on the healthy series of its test."""


def run(promtool: Path, *args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(promtool), *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def with_expression(folder: Path, alert: str, expression: str) -> Path:
    """A copy of the rules and their tests in `folder`, `alert` evaluating `expression`."""
    rules = yaml.safe_load((RULES / "alerts.yml").read_text())
    [rule] = [rule for group in rules["groups"] for rule in group["rules"]
              if rule.get("alert") == alert]
    rule["expr"] = expression
    (folder / "alerts.yml").write_text(yaml.safe_dump(rules))
    return Path(shutil.copy(RULES / "alerts_test.yml", folder))


def test_check_rules__alerts_file__every_alert_valid(promtool):
    checked = run(promtool, "check", "rules", RULES / "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in checked.stdout


def test_check_config__example_prometheus_config__valid_with_the_rules(promtool):
    checked = run(promtool, "check", "config", RULES / "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_alert_names__rules_and_their_runbooks__one_page_each():
    rules = yaml.safe_load((RULES / "alerts.yml").read_text())
    named = {rule["alert"]: rule["annotations"]["runbook"]
             for group in rules["groups"] for rule in group["rules"]}
    assert set(named) == set(ALERTS)
    assert all((RULES.parents[1] / page).is_file() for page in named.values()), named


def test_unit_tests__alerts_as_written__pass(promtool):
    tested = run(promtool, "test", "rules", RULES / "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


@pytest.mark.parametrize("alert", ALERTS)
def test_unit_tests__alert_never_fires__fail(promtool, tmp_path, alert):
    tested = run(promtool, "test", "rules", with_expression(tmp_path, alert, "vector(0) > 1"))
    assert tested.returncode != 0
    assert alert in tested.stdout + tested.stderr


@pytest.mark.parametrize("alert", ALERTS)
def test_unit_tests__alert_fires_on_healthy_series__fail(promtool, tmp_path, alert):
    tested = run(promtool, "test", "rules", with_expression(tmp_path, alert, LOOSENED[alert]))
    assert tested.returncode != 0
    assert alert in tested.stdout + tested.stderr
