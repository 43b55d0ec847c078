"""What a paper desk tells Prometheus (`noderr trade paper --metrics-port PORT`, on 127.0.0.1):
its orders by outcome (sent to the venue, refused by the check that refused them, refused as
halted), its fills, its equity and drawdown after each step, and how long each order's risk
check took (the Guardian nodes' answers over the bus with --guardians, the checks in process
otherwise). The alerts NoderrDeskRefusingOrders and NoderrDeskHalted (ops/prometheus/alerts.yml)
read them.

Each run has a registry of its own, so runs made in one process (tests) never add up; the
server lives as long as the process, like a node's (node/runtime/metrics.py)."""

from __future__ import annotations

import time
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from node.desk.desk import Step
from node.desk.gate import RiskContext, RiskGate
from node.desk.records import Order
from node.guardian.decisions import LimitDecision

Gate = Literal["guardians", "in_process"]
SENT, REFUSED, HALTED = "sent", "refused", "halted"
LATENCY_BUCKETS = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                   1.0, 2.0, 5.0)
"""From the in-process checks (tens of µs) to the guardians' answer timeout (2 s by default)."""


class DeskMetrics:
    def __init__(self, gate: Gate) -> None:
        self.registry = CollectorRegistry()
        self.orders = Counter(
            "noderr_desk_orders", "Orders of the strategy by outcome: sent (to the venue), "
            "refused (check: the refusing check), halted (refused while NodeGuard is halted).",
            ["outcome", "check"], registry=self.registry)
        self.fills = Counter("noderr_desk_fills", "Fills of the simulated venue.",
                             registry=self.registry)
        self.equity = Gauge("noderr_desk_equity", "Equity after the latest step (PAPER).",
                            registry=self.registry)
        self.drawdown = Gauge("noderr_desk_drawdown", "Drawdown after the latest step, a "
                              "fraction of the run's peak equity.", registry=self.registry)
        latency = Histogram(
            "noderr_desk_risk_check_seconds", "Seconds from asking an order's risk check to "
            "its answer, by gate (guardians: over the bus; in_process).", ["gate"],
            buckets=LATENCY_BUCKETS, registry=self.registry)
        self.latency = latency.labels(gate)
        self.orders.labels(SENT, "")
        self.peak = 0.0

    def serve(self, port: int) -> None:
        start_http_server(port, addr="127.0.0.1", registry=self.registry)

    def stepped(self, step: Step) -> None:
        """Count what one step of the desk led to."""
        self.orders.labels(SENT, "").inc(len(step.orders))
        for rejection in step.rejections:
            outcome = HALTED if rejection.check == HALTED else REFUSED
            self.orders.labels(outcome, rejection.check).inc()
        self.fills.inc(len(step.fills))
        equity = float(step.point.equity)
        self.peak = max(self.peak, equity)
        self.equity.set(equity)
        self.drawdown.set(1 - equity / self.peak if self.peak > 0 else 0.0)

    def timed(self, gate: RiskGate) -> RiskGate:
        """The gate, each of its answers timed (a refusal by raising too: the desk refuses)."""
        def checked(order: Order, context: RiskContext) -> LimitDecision:
            started = time.perf_counter()
            try:
                return gate(order, context)
            finally:
                self.latency.observe(time.perf_counter() - started)
        return checked


def desk_metrics(port: int, gate: Gate) -> DeskMetrics | None:
    """Metrics served on 127.0.0.1:`port` from now on; None for port 0 (off)."""
    if not port:
        return None
    metrics = DeskMetrics(gate)
    metrics.serve(port)
    return metrics
