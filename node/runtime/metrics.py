"""What a node exposes to Prometheus (`NODERR_NODE_METRICS_PORT`): whether it may execute,
the block its license was last confirmed at, its function executions by outcome, and the
bus's drops by reason (node/bus/transport.py registers those)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, start_http_server

from node.execution import Execution

ACTIVE = Gauge("noderr_node_active", "1 while the node may execute, 0 while it is paused.")
CONFIRMED_BLOCK = Gauge("noderr_node_license_block",
                        "The indexed block at which the node's license was last confirmed.")
EXECUTIONS = Counter("noderr_node_executions", "Function executions the backend accepted, "
                     "by function and outcome.",
                     ["function", "outcome"])


def serve(port: int) -> None:
    """Serve /metrics on 127.0.0.1:`port` from a background thread (0: not at all)."""
    if port:
        start_http_server(port, addr="127.0.0.1")


def count(executions: list[Execution]) -> None:
    for execution in executions:
        EXECUTIONS.labels(execution.function, execution.outcome).inc()
